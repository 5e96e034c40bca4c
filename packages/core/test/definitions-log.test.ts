import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, removeTempDir } from "@leveret/testkit";
import { describe, expect, it } from "vitest";
import { WalStore } from "../src/wal-store.js";

const queue = (id: string, name = id) => ({ id, vhost: "/", name, durable: true, autoDelete: false, arguments: {} });
const quiet = { error() {}, warn() {} };

describe("definitions log rewrite", () => {
  it("shrinks a log full of superseded definitions at open and keeps the live ones", async () => {
    const dataDir = await makeTempDir("leveret-defs-log-");
    const store = new WalStore({ dataDir, logger: quiet });
    await store.recover();
    store.saveQueue(queue("keep"));
    store.saveBinding({ vhost: "/", source: "amq.direct", destinationKind: "queue", destination: "keep", routingKey: "k", arguments: {} });
    for (let i = 0; i < 1500; i++) {
      store.saveQueue(queue(`churn-${i}`, "churn"));
      store.deleteQueue(`churn-${i}`);
    }
    await store.commit();
    await store.close();
    const reopened = new WalStore({ dataDir, logger: quiet });
    const state = await reopened.recover();
    expect(state.queues.map((q) => q.id)).toEqual(["keep"]);
    expect(state.bindings).toHaveLength(1);
    expect(reopened.stats().diskBytes).toBeLessThan(4096);
    await reopened.close();
    const again = new WalStore({ dataDir, logger: quiet });
    expect((await again.recover()).queues.map((q) => q.id)).toEqual(["keep"]);
    await again.close();
    expect((await readdir(dataDir)).sort()).toEqual(["definitions", "messages"]);
    await removeTempDir(dataDir);
  });

  it("finishes or discards a rewrite that a crash interrupted", async () => {
    const dataDir = await makeTempDir("leveret-defs-crash-");
    const store = new WalStore({ dataDir, logger: quiet });
    await store.recover();
    store.saveQueue(queue("survivor"));
    await store.commit();
    await store.close();
    // crash before the swap: an incomplete .next beside the real log is thrown away
    await mkdir(join(dataDir, "definitions.next"));
    await writeFile(join(dataDir, "definitions.next", "garbage.wal"), "partial");
    const first = new WalStore({ dataDir, logger: quiet });
    expect((await first.recover()).queues.map((q) => q.id)).toEqual(["survivor"]);
    await first.close();
    expect((await readdir(dataDir)).sort()).toEqual(["definitions", "messages"]);
    await removeTempDir(dataDir);
  });
});
