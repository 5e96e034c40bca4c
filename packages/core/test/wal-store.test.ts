/**
 * WalStore over an in-memory file system: recovery, ordering, compaction, a full disk, a failed sync,
 * and a crash at every I/O point of a publish/settle workload.
 */
import { MemoryFileIo } from "@leveret/wal";
import { describe, expect, it } from "vitest";
import type { Message } from "../src/message.js";
import type { RecoveredState } from "../src/store.js";
import { WalStore } from "../src/wal-store.js";
import { recoveredList } from "./support/recovered-list.js";

const DATA = "/data";

function message(id: number, size = 16): Message {
  const body = Buffer.alloc(size, id % 251);
  body.writeUInt32BE(id, 0);
  return { id, exchange: "", routingKey: "q", properties: { deliveryMode: 2 }, rawProperties: Buffer.from([0x10, 0x00, 2]), body, bodySize: size, persistent: true };
}

function queue(id: string) {
  return { id, vhost: "/", name: id, durable: true, autoDelete: false, arguments: {} };
}

async function open(io: MemoryFileIo, segmentSizeBytes = 4096): Promise<{ store: WalStore; state: RecoveredState; fatal: Error[] }> {
  const store = new WalStore({ dataDir: DATA, fileIo: io, segmentSizeBytes, logger: { error() {}, warn() {} } });
  const fatal: Error[] = [];
  store.onFatal((error) => fatal.push(error));
  const state = await store.recover();
  return { store, state, fatal };
}

const settleTurn = () => new Promise((resolve) => setImmediate(resolve));

function idsIn(state: RecoveredState, queueId: string): number[] {
  return recoveredList(state)
    .filter((m) => m.queueIds.includes(queueId))
    .map((m) => m.id);
}

describe("WalStore", () => {
  it("recovers definitions, unsettled messages and their bodies after a reopen", async () => {
    const io = new MemoryFileIo();
    const { store } = await open(io);
    store.saveQueue(queue("a"));
    store.saveQueue(queue("b"));
    store.saveExchange({ vhost: "/", name: "x", type: "topic", durable: true, autoDelete: false, internal: false, arguments: {} });
    store.saveBinding({ vhost: "/", source: "x", destinationKind: "queue", destination: "a", routingKey: "k.#", arguments: {} });
    for (let id = 1; id <= 5; id++) store.appendMessage(message(id), id % 2 === 0 ? ["a", "b"] : ["a"]);
    await store.commit();
    store.settle("a", 2);
    store.settle("a", 3);
    await store.commit();
    await store.close();
    const { state, store: reopened } = await open(io);
    expect(state.queues.map((q) => q.id).sort()).toEqual(["a", "b"]);
    expect(state.bindings).toHaveLength(1);
    expect(state.exchanges.map((e) => e.name)).toEqual(["x"]);
    expect(idsIn(state, "a")).toEqual([1, 4, 5]);
    expect(idsIn(state, "b")).toEqual([2, 4]);
    // Recovery keeps messages on disk: only their sizes come back, and readMessage fetches them.
    const four = recoveredList(state).find((m) => m.id === 4);
    expect(four?.bodySize).toBe(16);
    const read = await reopened.readMessage(4);
    expect(read.body.equals(message(4).body as Buffer)).toBe(true);
    expect(read.rawProperties.equals(message(4).rawProperties)).toBe(true);
    expect([read.exchange, read.routingKey]).toEqual(["", "q"]);
    expect(state.nextMessageId).toBe(6);
  });

  it("drops messages of a deleted queue and keeps them out of a redeclared one", async () => {
    const io = new MemoryFileIo();
    const { store } = await open(io);
    store.saveQueue(queue("old"));
    store.appendMessage(message(1), ["old"]);
    await store.commit();
    store.deleteQueue("old");
    store.saveQueue({ ...queue("new"), name: "old" });
    store.appendMessage(message(2), ["new"]);
    await store.commit();
    await store.close();
    const { state } = await open(io);
    expect(recoveredList(state).map((m) => m.id)).toEqual([2]);
  });

  it("deletes settled segments and compacts a stuck one, keeping disk use bounded and queue order intact", async () => {
    const io = new MemoryFileIo();
    const segmentSizeBytes = 2048;
    const { store } = await open(io, segmentSizeBytes);
    store.saveQueue(queue("fast"));
    store.saveQueue(queue("stuck"));
    let id = 0;
    const stuck: number[] = [];
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 10; i++) {
        id++;
        const isStuck = id % 25 === 0;
        store.appendMessage(message(id, 100), [isStuck ? "stuck" : "fast"]);
        if (isStuck) stuck.push(id);
      }
      await store.commit();
      // Every other stuck message was handed out once: that must survive its record being moved.
      if (id % 50 === 0) store.markDelivered("stuck", id);
      for (let settled = id - 9; settled <= id; settled++) if (settled % 25 !== 0) store.settle("fast", settled);
      await settleTurn();
      await store.commit();
      await settleTurn();
    }
    const stats = store.messageStats();
    expect(stats.segmentsDeleted).toBeGreaterThan(5);
    expect(stats.compactions).toBeGreaterThan(0);
    expect(stats.diskBytes).toBeLessThanOrEqual(2 * stats.liveBytes + 3 * segmentSizeBytes);
    await store.close();
    const { state } = await open(io, segmentSizeBytes);
    expect(idsIn(state, "stuck")).toEqual(stuck);
    expect(idsIn(state, "fast")).toEqual([]);
    const delivered = recoveredList(state).filter((m) => m.deliveredQueueIds.includes("stuck"));
    expect(delivered.map((m) => m.id)).toEqual(stuck.filter((stuckId) => stuckId % 50 === 0));
  });

  it("records first deliveries per queue, and forgets them with the queue's settle", async () => {
    const io = new MemoryFileIo();
    const { store } = await open(io);
    store.saveQueue(queue("a"));
    store.saveQueue(queue("b"));
    for (let id = 1; id <= 4; id++) store.appendMessage(message(id), ["a", "b"]);
    await store.commit();
    store.markDelivered("a", 1);
    store.markDelivered("b", 2);
    store.markDelivered("a", 3);
    store.markDelivered("nobody", 4); // not a holder: ignored
    await settleTurn();
    store.settle("a", 3);
    await store.close();
    const { state } = await open(io);
    const byId = new Map(recoveredList(state).map((m) => [m.id, m]));
    expect(byId.get(1)?.deliveredQueueIds).toEqual(["a"]);
    expect(byId.get(2)?.deliveredQueueIds).toEqual(["b"]);
    expect(byId.get(3)?.queueIds).toEqual(["b"]);
    expect(byId.get(3)?.deliveredQueueIds).toEqual([]);
    expect(byId.get(4)?.deliveredQueueIds).toEqual([]);
  });

  it("a full disk rejects the commit, voids those messages, tells the listeners, and recovers", async () => {
    const io = new MemoryFileIo();
    const { store } = await open(io);
    const diskFull: boolean[] = [];
    store.onDiskFull((full) => diskFull.push(full));
    store.saveQueue(queue("q"));
    store.appendMessage(message(1), ["q"]);
    await store.commit();
    io.failNextWrite("ENOSPC");
    store.appendMessage(message(2), ["q"]);
    await expect(store.commit()).rejects.toMatchObject({ code: "WAL_NO_SPACE" });
    store.appendMessage(message(3), ["q"]);
    await store.commit();
    expect(diskFull).toEqual([true, false]);
    await store.close();
    const { state } = await open(io);
    expect(idsIn(state, "q")).toEqual([1, 3]);
  });

  it("a failed fdatasync is fatal", async () => {
    const io = new MemoryFileIo({ dsync: false });
    const { store, fatal } = await open(io);
    store.saveQueue(queue("q"));
    await store.commit();
    io.failNextSync("EIO");
    store.appendMessage(message(1), ["q"]);
    await expect(store.commit()).rejects.toMatchObject({ code: "WAL_SYNC_FAILED" });
    expect(fatal.length).toBeGreaterThan(0);
  });
});

describe("WalStore crash at every I/O point", () => {
  interface Outcome {
    appended: Set<number>;
    confirmed: Set<number>;
    /** "queue:id" settlements appended before a commit that resolved. */
    durablySettled: Set<string>;
    /** "queue:id" first deliveries recorded, and those recorded before a commit that resolved. */
    marked: Set<string>;
    durablyMarked: Set<string>;
  }

  /** Publishes with commits, settles some confirmed messages, until the crash stops it. */
  async function workload(io: MemoryFileIo): Promise<Outcome> {
    const outcome: Outcome = {
      appended: new Set(),
      confirmed: new Set(),
      durablySettled: new Set(),
      marked: new Set(),
      durablyMarked: new Set(),
    };
    try {
      const { store } = await open(io, 1024);
      store.saveQueue(queue("a"));
      store.saveQueue(queue("b"));
      await store.commit();
      let pendingSettles: string[] = [];
      let pendingMarks: string[] = [];
      for (let id = 1; id <= 24; id++) {
        store.appendMessage(message(id, 40 + (id % 7) * 13), id % 3 === 0 ? ["a", "b"] : ["a"]);
        outcome.appended.add(id);
        if (id % 4 !== 0) continue;
        const covered = [...outcome.appended].filter((m) => !outcome.confirmed.has(m));
        const settles = pendingSettles;
        const marks = pendingMarks;
        pendingSettles = [];
        pendingMarks = [];
        await store.commit();
        for (const m of covered) outcome.confirmed.add(m);
        for (const s of settles) outcome.durablySettled.add(s);
        for (const k of marks) outcome.durablyMarked.add(k);
        // queue b hands out every other message it holds: the record rides on the next commit
        for (const m of covered) {
          if (m % 6 === 0) {
            store.markDelivered("b", m);
            outcome.marked.add(`b:${m}`);
            pendingMarks.push(`b:${m}`);
          }
        }
        // settle every other confirmed message from queue a: appended now, made durable by the next commit
        for (const m of covered) {
          if (m % 2 === 0) {
            store.settle("a", m);
            pendingSettles.push(`a:${m}`);
          }
        }
      }
    } catch {
      // the crash: I/O fails from here on
    }
    return outcome;
  }

  async function check(state: RecoveredState, store: WalStore, outcome: Outcome): Promise<void> {
    const present = new Map(recoveredList(state).map((m) => [m.id, m]));
    for (const [id, recovered] of present) {
      expect(outcome.appended.has(id)).toBe(true);
      expect((await store.readMessage(id)).body.equals(message(id, 40 + (id % 7) * 13).body as Buffer)).toBe(true);
      for (const q of recovered.queueIds) expect(outcome.durablySettled.has(`${q}:${id}`)).toBe(false);
      // A redelivered flag is never invented, and one made durable is never lost.
      for (const q of recovered.deliveredQueueIds) {
        expect(recovered.queueIds).toContain(q);
        expect(outcome.marked.has(`${q}:${id}`)).toBe(true);
      }
      for (const q of recovered.queueIds) {
        if (outcome.durablyMarked.has(`${q}:${id}`)) expect(recovered.deliveredQueueIds).toContain(q);
      }
    }
    for (const id of outcome.confirmed) {
      const expectedQueues = (id % 3 === 0 ? ["a", "b"] : ["a"]).filter((q) => !outcome.durablySettled.has(`${q}:${id}`));
      if (expectedQueues.length === 0) continue;
      const recovered = present.get(id);
      expect(recovered, `confirmed message ${id} lost`).toBeDefined();
      for (const q of expectedQueues) {
        // an undurable settle may or may not have reached the disk: only durable ones are asserted
        if (!recovered?.queueIds.includes(q)) expect(q === "a" && id % 2 === 0).toBe(true);
      }
    }
    const ids = recoveredList(state).map((m) => m.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  }

  it("never loses a confirmed message nor resurrects a durably settled one", async () => {
    const probe = new MemoryFileIo();
    const full = await workload(probe);
    expect(full.durablyMarked.size).toBeGreaterThan(1); // the marker checks below are not vacuous
    const totalMutations = probe.counters.mutations;
    expect(totalMutations).toBeGreaterThan(20);
    for (let k = 1; k <= totalMutations; k++) {
      for (const tearLastWrite of [false, true]) {
        const io = new MemoryFileIo();
        io.crashAtMutation(k, { tearLastWrite, seed: k });
        const outcome = await workload(io);
        io.crash({ tearLastWrite, seed: k });
        const { state, store } = await open(io, 1024);
        await check(state, store, outcome);
        await store.close();
      }
    }
  });
});
