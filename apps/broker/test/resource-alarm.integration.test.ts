/** Memory/disk alarms: connection.blocked, publishers held, unblocked when the alarm clears. */
import { AmqpServer } from "@leveret/amqp";
import { Broker, MemoryStore } from "@leveret/core";
import { startBroker } from "@leveret/testkit";
import { describe, expect, it } from "vitest";
import { ResourceMonitor } from "../src/resource-monitor.js";
import { connect, delay, openChannel } from "./support/amqp.js";

describe("resource alarms", () => {
  it("a broker below its disk free limit blocks publishers and says why", async () => {
    const broker = await startBroker({ args: ["--disk-free-limit-bytes", String(Number.MAX_SAFE_INTEGER)] });
    const publisher = await connect(broker.url);
    const blocked = new Promise<string>((resolve) => publisher.on("blocked", resolve));
    const channel = await openChannel(publisher);
    await channel.assertQueue("alarm-q", { exclusive: false });
    channel.sendToQueue("alarm-q", Buffer.from("held"));
    expect(await blocked).toBe("low on disk space");
    const observer = await connect(broker.url);
    const check = await openChannel(observer);
    await delay(300);
    expect(await check.checkQueue("alarm-q")).toMatchObject({ messageCount: 0 });
    await observer.close();
    publisher.close().catch(() => {});
    await broker.stop("SIGKILL");
  });

  it("releases held publishers with connection.unblocked when the alarm clears", async () => {
    const core = await Broker.open({ store: new MemoryStore() });
    const server = new AmqpServer({ broker: core });
    const { port } = await server.listen(0, "127.0.0.1");
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    const publisher = await connect(url);
    const events: string[] = [];
    publisher.on("blocked", (reason) => events.push(`blocked:${reason}`));
    publisher.on("unblocked", () => events.push("unblocked"));
    const channel = await openChannel(publisher);
    await channel.assertQueue("held-q");
    server.setAlarm("low on memory");
    await delay(50);
    channel.sendToQueue("held-q", Buffer.from("later"));
    await delay(200);
    expect(core.vhost("/").queue("held-q", {}).messageCount).toBe(0);
    server.setAlarm(undefined);
    await delay(200);
    expect(core.vhost("/").queue("held-q", {}).messageCount).toBe(1);
    expect(events).toEqual(["blocked:low on memory", "unblocked"]);
    await publisher.close();
    await server.close();
  });
});

describe("ResourceMonitor", () => {
  it("raises and clears alarms from its probes and from the store's disk-full signal", async () => {
    let resident = 10;
    let free = 1000;
    const changes: (string | undefined)[] = [];
    const monitor = new ResourceMonitor(
      { memoryHighWatermarkBytes: 100, diskFreeLimitBytes: 500 },
      { residentBytes: () => resident, freeDiskBytes: async () => free },
      (reason) => changes.push(reason),
    );
    await monitor.check();
    resident = 200;
    await monitor.check();
    free = 100;
    await monitor.check();
    resident = 10;
    free = 1000;
    await monitor.check();
    monitor.setStoreDiskFull(true);
    monitor.setStoreDiskFull(false);
    expect(changes).toEqual([
      "low on memory",
      "low on memory, low on disk space",
      undefined,
      "low on disk space",
      undefined,
    ]);
  });
});
