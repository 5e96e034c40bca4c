import { describe, expect, it } from "vitest";
import { Broker } from "../src/broker.js";
import { MemoryStore } from "../src/memory-store.js";

/** Records what a durable store would be asked to forget. */
class RecordingStore extends MemoryStore {
  readonly deleted: string[] = [];
  override deleteQueue(queueId: string): void {
    this.deleted.push(`queue ${queueId}`);
  }
  override deleteExchange(vhost: string, name: string): void {
    this.deleted.push(`exchange ${vhost}/${name}`);
  }
}

const queue = { passive: false, exclusive: false, autoDelete: false, arguments: {} };
const exchange = { type: "topic", passive: false, autoDelete: false, internal: false, arguments: {} };

describe("Broker vhosts", () => {
  it("creates vhosts on demand, idempotently", async () => {
    const broker = await Broker.open({ store: new MemoryStore(), vhosts: [] });
    expect(broker.vhosts.size).toBe(0);
    const app = broker.ensureVhost("app");
    expect(broker.ensureVhost("app")).toBe(app);
    expect(broker.vhost("app")).toBe(app);
  });

  it("deletes a vhost with its queues and exchanges, durably, leaving other vhosts alone", async () => {
    const store = new RecordingStore();
    const broker = await Broker.open({ store, vhosts: ["/", "app"] });
    const owner = {};
    const app = broker.vhost("app");
    const durable = app.declareQueue("q-durable", { ...queue, durable: true }, owner).queue;
    app.declareQueue("q-transient", { ...queue, durable: false }, owner);
    app.declareQueue("q-exclusive", { ...queue, durable: false, exclusive: true }, owner);
    app.declareExchange("x", { ...exchange, durable: true });
    app.bindQueue("q-durable", "x", "#", {}, owner);
    app.publish("x", "a", { deliveryMode: 2 }, Buffer.alloc(0), Buffer.from("m"));
    broker.vhost("/").declareQueue("kept", { ...queue, durable: true }, owner);

    expect(broker.deleteVhost("app")).toBe(true);
    expect(broker.vhosts.has("app")).toBe(false);
    expect(() => broker.vhost("app")).toThrow(/not found/);
    expect(store.deleted).toEqual([`queue ${durable.id}`, "exchange app/x"]);
    expect(durable.messageCount).toBe(0);
    expect(broker.vhost("/").queues.has("kept")).toBe(true);
    expect(broker.deleteVhost("app")).toBe(false);
    // Re-created under the same name, it is empty.
    expect(broker.ensureVhost("app").queues.size).toBe(0);
  });
});
