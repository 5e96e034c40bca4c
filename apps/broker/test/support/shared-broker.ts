/**
 * One broker and one amqplib connection for all the tests of a file: started before the first test,
 * closed and stopped after the last. `use` receives them once they are up.
 */
import { type RunningBroker, startBroker } from "@leveret/testkit";
import type { ChannelModel } from "amqplib";
import { afterAll, beforeAll } from "vitest";
import { connect } from "./amqp.js";

export interface SharedBroker {
  broker: RunningBroker;
  connection: ChannelModel;
}

export function useSharedBroker(use: (shared: SharedBroker) => void): void {
  let shared: SharedBroker | undefined;
  beforeAll(async () => {
    const broker = await startBroker();
    shared = { broker, connection: await connect(broker.url) };
    use(shared);
  });
  afterAll(async () => {
    await shared?.connection.close().catch(() => {});
    await shared?.broker.stop();
  });
}
