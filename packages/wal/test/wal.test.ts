import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type RecordPosition, SEGMENT_HEADER_BYTES, Wal, type WalOptions } from "../src/index.js";
import { collector, payloadFor, recordingLogger, segmentFiles, tempDir } from "./helpers.js";

function options(dir: string, extra: Partial<WalOptions> = {}): WalOptions {
  return { dir, logger: recordingLogger(), ...extra };
}

describe("Wal on real files", () => {
  it("replays after close exactly what was committed, and keeps appending after reopen", async () => {
    const dir = tempDir();
    const first = await Wal.open(options(dir), () => expect.unreachable("empty dir"));
    const positions: RecordPosition[] = [];
    for (let seq = 0; seq < 50; seq += 1)
      positions.push(first.append(1 + (seq % 3), payloadFor(seq, seq * 5)));
    await first.commit();
    await first.close();

    const replay = collector();
    const second = await Wal.open(options(dir), replay.onRecord);
    expect(replay.records.map((r) => r.position)).toEqual(positions);
    replay.records.forEach((record, seq) => {
      expect(record.type).toBe(1 + (seq % 3));
      expect(record.payload.equals(payloadFor(seq, seq * 5))).toBe(true);
    });
    const next = second.append(9, Buffer.from("after reopen"));
    expect(next.offset).toBe(positions[49]!.offset + positions[49]!.length);
    await second.commit();
    await second.close();

    const again = collector();
    const third = await Wal.open(options(dir), again.onRecord);
    expect(again.records).toHaveLength(51);
    expect(again.records[50]!.payload.toString()).toBe("after reopen");
    await third.close();
  });

  it("writes a payload given in parts contiguously and reads it back", async () => {
    const dir = tempDir();
    const wal = await Wal.open(options(dir), () => {});
    const parts = [Buffer.from("header:"), Buffer.alloc(0), Buffer.from("body-bytes")];
    const position = wal.append(4, parts);
    expect(position.length).toBe(9 + 17);
    expect((await wal.read(position)).toString()).toBe("header:body-bytes"); // still pending: from memory
    await wal.commit();
    expect((await wal.read(position)).toString()).toBe("header:body-bytes"); // from the file
    await wal.close();
    const replay = collector();
    await (await Wal.open(options(dir), replay.onRecord)).close();
    expect(replay.records[0]!.payload.toString()).toBe("header:body-bytes");
  });

  it("rotates segments, gives an oversized record a segment of its own, and reports segments", async () => {
    const dir = tempDir();
    const wal = await Wal.open(options(dir, { segmentSizeBytes: 256 }), () => {});
    const small = wal.append(1, Buffer.alloc(100, 1));
    const big = wal.append(1, Buffer.alloc(1000, 2));
    const after = wal.append(1, Buffer.alloc(10, 3));
    expect(small).toEqual({ segment: 1, offset: SEGMENT_HEADER_BYTES, length: 109 });
    expect(big).toEqual({ segment: 2, offset: SEGMENT_HEADER_BYTES, length: 1009 });
    expect(after).toEqual({ segment: 3, offset: SEGMENT_HEADER_BYTES, length: 19 });
    await wal.commit();
    expect(wal.activeSegment).toBe(3);
    expect(wal.segments()).toEqual([
      { segment: 1, sizeBytes: 16 + 109, sealed: true },
      { segment: 2, sizeBytes: 16 + 1009, sealed: true },
      { segment: 3, sizeBytes: 16 + 19, sealed: false },
    ]);
    expect(segmentFiles(dir)).toEqual([
      "00000000000000000001.wal",
      "00000000000000000002.wal",
      "00000000000000000003.wal",
    ]);
    expect(fs.statSync(path.join(dir, "00000000000000000002.wal")).size).toBe(1025);
    expect((await wal.read(big)).equals(Buffer.alloc(1000, 2))).toBe(true);
    expect(wal.stats()).toMatchObject({ segments: 3, totalBytes: 125 + 1025 + 35, appendedRecords: 3 });
    await wal.close();
  });

  it("iterates and deletes sealed segments for compaction, never the active one", async () => {
    const dir = tempDir();
    const wal = await Wal.open(options(dir, { segmentSizeBytes: 128 }), () => {});
    for (let seq = 0; seq < 6; seq += 1) wal.append(2, payloadFor(seq, 40));
    await wal.commit();
    const sealed = wal.segments().filter((s) => s.sealed);
    expect(sealed.length).toBeGreaterThan(0);
    const inFirst = collector();
    await wal.readSegment(1, inFirst.onRecord);
    expect(inFirst.records.map((r) => r.payload.readUInt32LE(0))).toEqual([0, 1]);

    await expect(wal.deleteSegment(wal.activeSegment)).rejects.toMatchObject({ code: "WAL_SEGMENT_ACTIVE" });
    await expect(wal.readSegment(wal.activeSegment, () => {})).rejects.toMatchObject({
      code: "WAL_SEGMENT_ACTIVE",
    });
    await expect(wal.deleteSegment(99)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    const ownerError = new Error("compaction callback failed");
    await expect(
      wal.readSegment(1, () => {
        throw ownerError;
      }),
    ).rejects.toBe(ownerError);
    const twice = [wal.deleteSegment(1), wal.deleteSegment(1)];
    const outcomes = await Promise.allSettled(twice);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(outcomes.find((o) => o.status === "rejected")).toMatchObject({
      reason: { code: "WAL_INVALID_ARGUMENT" },
    });
    expect(segmentFiles(dir)).not.toContain("00000000000000000001.wal");
    expect(wal.segments().map((s) => s.segment)).not.toContain(1);
    await expect(wal.read({ segment: 1, offset: 16, length: 49 })).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
    });
    await wal.close();

    const replay = collector();
    await (await Wal.open(options(dir, { segmentSizeBytes: 128 }), replay.onRecord)).close();
    expect(replay.records.map((r) => r.payload.readUInt32LE(0))).toEqual([2, 3, 4, 5]);
  });

  it("waits for a just-sealed segment's pending records before reading it", async () => {
    const dir = tempDir();
    const wal = await Wal.open(options(dir, { segmentSizeBytes: 64 }), () => {});
    wal.append(1, Buffer.alloc(30, 7));
    wal.append(1, Buffer.alloc(30, 8)); // rotates: segment 1 is sealed but not written yet
    const seen = collector();
    await wal.readSegment(1, seen.onRecord);
    expect(seen.records.map((r) => r.payload[0])).toEqual([7]);
    await wal.close();
  });

  it("verifies checksums on read", async () => {
    const dir = tempDir();
    const wal = await Wal.open(options(dir), () => {});
    const position = wal.append(1, Buffer.from("precious body"));
    await wal.commit();
    const file = path.join(dir, "00000000000000000001.wal");
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, Buffer.from("X"), 0, 1, position.offset + 12);
    fs.closeSync(fd);
    await expect(wal.read(position)).rejects.toMatchObject({ code: "WAL_CORRUPT_RECORD" });
    await expect(wal.read({ ...position, length: position.length + 1 })).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
    });
    await expect(wal.read({ ...position, offset: 3 })).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
    });
    await wal.close();
  });

  it("rejects bad arguments and use after close", async () => {
    const dir = tempDir();
    await expect(Wal.open({ dir, segmentSizeBytes: 3 }, () => {})).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
    });
    await expect(Wal.open({ dir, fsync: "sometimes" as never }, () => {})).rejects.toMatchObject({
      code: "WAL_INVALID_ARGUMENT",
    });
    const wal = await Wal.open(options(dir), () => {});
    expect(() => wal.append(0, Buffer.alloc(1))).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
    );
    expect(() => wal.append(1, "text" as never)).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
    );
    expect(() => wal.append(1, ["text"] as never)).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
    );
    const position = wal.append(1, Buffer.from("last"));
    await wal.close();
    await wal.close(); // idempotent
    expect(() => wal.append(1, Buffer.alloc(1))).toThrow(expect.objectContaining({ code: "WAL_CLOSED" }));
    await expect(wal.commit()).rejects.toMatchObject({ code: "WAL_CLOSED" });
    await expect(wal.read(position)).rejects.toMatchObject({ code: "WAL_CLOSED" });
    const replay = collector();
    await (await Wal.open(options(dir), replay.onRecord)).close();
    expect(replay.records.map((r) => r.payload.toString())).toEqual(["last"]); // close flushed it
  });

  it("tracks idle: false while anything is unwritten or unsynced", async () => {
    const dir = tempDir();
    const wal = await Wal.open(options(dir), () => {});
    expect(wal.idle).toBe(true);
    wal.append(1, Buffer.from("a"));
    expect(wal.idle).toBe(false);
    await wal.commit();
    expect(wal.idle).toBe(true);
    await wal.close();
  });

  it("syncs an earlier append written without a commit when a commit comes later", async () => {
    const dir = tempDir();
    const wal = await Wal.open(options(dir), () => {});
    wal.append(1, Buffer.from("ack"));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const syncsBefore = wal.stats().syncs;
    expect(wal.idle).toBe(false); // written, not synced
    await wal.commit();
    expect(wal.stats().syncs).toBe(syncsBefore + 1);
    expect(wal.idle).toBe(true);
    await wal.close();
  });

  for (const fsync of ["batch", "none"] as const) {
    it(`commits and replays under fsync "${fsync}"`, async () => {
      const dir = tempDir();
      const wal = await Wal.open(options(dir, { fsync, fsyncIntervalMs: 1 }), () => {});
      const syncsAtOpen = wal.stats().syncs; // creating segment 1 synced its header
      const commits: Promise<void>[] = [];
      for (let seq = 0; seq < 20; seq += 1) {
        wal.append(1, payloadFor(seq, 64));
        commits.push(wal.commit());
        if (seq % 5 === 4) await Promise.all(commits);
      }
      await Promise.all(commits);
      if (fsync === "none") expect(wal.stats().syncs).toBe(syncsAtOpen);
      await wal.close();
      const replay = collector();
      await (await Wal.open(options(dir), replay.onRecord)).close();
      expect(replay.records.map((r) => r.payload.readUInt32LE(0))).toEqual([...Array(20).keys()]);
    });
  }

  it("ignores files that are not segments", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "README"), "not a segment");
    fs.writeFileSync(path.join(dir, "00000000000000000007.wal.tmp"), "not a segment either");
    const wal = await Wal.open(options(dir), () => {});
    expect(wal.segments().map((s) => s.segment)).toEqual([1]);
    await wal.close();
  });
});
