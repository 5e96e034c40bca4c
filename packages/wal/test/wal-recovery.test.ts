import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type RecordPosition, segmentFileName, Wal } from "../src/index.js";
import { collector, payloadFor, recordingLogger, tempDir } from "./helpers.js";

/** Writes `count` records of varied sizes and closes; returns their positions. */
async function writeLog(
  dir: string,
  count: number,
  segmentSizeBytes = 1024 * 1024,
): Promise<RecordPosition[]> {
  const wal = await Wal.open({ dir, segmentSizeBytes, logger: recordingLogger() }, () => {});
  const positions: RecordPosition[] = [];
  for (let seq = 0; seq < count; seq += 1)
    positions.push(wal.append(1, payloadFor(seq, 20 + ((seq * 13) % 50))));
  await wal.commit();
  await wal.close();
  return positions;
}

function segmentPath(dir: string, segment: number): string {
  return path.join(dir, segmentFileName(segment));
}

function replayedSeqs(records: { payload: Buffer }[]): number[] {
  return records.map((r) => r.payload.readUInt32LE(0));
}

describe("recovery", () => {
  it("cuts a torn last record at every byte offset and keeps everything before it", async () => {
    const source = tempDir();
    const positions = await writeLog(source, 6);
    const original = fs.readFileSync(segmentPath(source, 1));
    const last = positions[5]!;
    expect(original.length).toBe(last.offset + last.length);
    for (let cut = last.offset; cut < last.offset + last.length; cut += 1) {
      const dir = tempDir();
      fs.writeFileSync(segmentPath(dir, 1), original.subarray(0, cut));
      const replay = collector();
      const logger = recordingLogger();
      // No prefill window: the file size then shows exactly where recovery cut.
      const wal = await Wal.open({ dir, logger, prefillBytes: 0 }, replay.onRecord);
      expect(replayedSeqs(replay.records)).toEqual([0, 1, 2, 3, 4]);
      expect(replay.records.every((r, seq) => r.payload.equals(payloadFor(seq, r.payload.length)))).toBe(
        true,
      );
      expect(wal.stats()).toMatchObject({
        tornTailBytesTruncated: cut - last.offset,
        corruptRecordsSkipped: 0,
      });
      expect(fs.statSync(segmentPath(dir, 1)).size).toBe(last.offset);
      expect(logger.entries.length).toBe(cut > last.offset ? 1 : 0);
      const next = wal.append(1, payloadFor(99, 30));
      expect(next.offset).toBe(last.offset);
      await wal.commit();
      await wal.close();
      const again = collector();
      await (await Wal.open({ dir, logger }, again.onRecord)).close();
      expect(replayedSeqs(again.records)).toEqual([0, 1, 2, 3, 4, 99]);
    }
  });

  for (const [name, tail] of [
    ["zeros", Buffer.alloc(4096)],
    ["random garbage", Buffer.from(Array.from({ length: 777 }, (_, i) => (i * 131 + 17) & 0xff))],
    ["a plausible header with a wrong checksum", Buffer.from([5, 0, 0, 0, 1, 2, 3, 4, 9, 1, 2, 3, 4, 5])],
    ["half a header", Buffer.from([5, 0, 0])],
  ] as const) {
    it(`cuts ${name} off the tail of the last segment`, async () => {
      const dir = tempDir();
      const positions = await writeLog(dir, 4);
      fs.appendFileSync(segmentPath(dir, 1), tail);
      const replay = collector();
      const wal = await Wal.open({ dir, logger: recordingLogger(), prefillBytes: 0 }, replay.onRecord);
      expect(replayedSeqs(replay.records)).toEqual([0, 1, 2, 3]);
      expect(wal.stats().tornTailBytesTruncated).toBe(tail.length);
      const end = positions[3]!.offset + positions[3]!.length;
      expect(fs.statSync(segmentPath(dir, 1)).size).toBe(end);
      await wal.close();
    });
  }

  it("skips and counts a corrupt record in a sealed segment, replaying the others", async () => {
    const dir = tempDir();
    const positions = await writeLog(dir, 12, 256);
    const victim = positions.find((p, i) => p.segment === 1 && i === 1)!;
    const file = segmentPath(dir, 1);
    const bytes = fs.readFileSync(file);
    bytes[victim.offset + 10] = bytes[victim.offset + 10]! ^ 0x40; // a payload byte
    fs.writeFileSync(file, bytes);
    const replay = collector();
    const logger = recordingLogger();
    const wal = await Wal.open({ dir, segmentSizeBytes: 256, logger }, replay.onRecord);
    expect(replayedSeqs(replay.records)).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(wal.stats()).toMatchObject({ corruptRecordsSkipped: 1, tornTailBytesTruncated: 0 });
    expect(logger.entries).toEqual([
      expect.objectContaining({
        level: "error",
        obj: expect.objectContaining({ segment: 1, offset: victim.offset }),
      }),
    ]);
    expect(fs.statSync(file).size).toBe(bytes.length); // a sealed segment is never cut
    await wal.close();
  });

  it("abandons the rest of a sealed segment when a length is implausible, and goes on with the next", async () => {
    const dir = tempDir();
    const positions = await writeLog(dir, 12, 256);
    const inFirst = positions.filter((p) => p.segment === 1).length;
    expect(inFirst).toBeGreaterThanOrEqual(3);
    const file = segmentPath(dir, 1);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt32LE(0x7fffffff, positions[1]!.offset); // length field of record 1
    fs.writeFileSync(file, bytes);
    const replay = collector();
    const logger = recordingLogger();
    const wal = await Wal.open({ dir, segmentSizeBytes: 256, logger }, replay.onRecord);
    const expected = [0, ...Array.from({ length: 12 - inFirst }, (_, i) => inFirst + i)];
    expect(replayedSeqs(replay.records)).toEqual(expected);
    expect(wal.stats().corruptRecordsSkipped).toBe(1);
    expect(logger.entries[0]?.obj).toMatchObject({ segment: 1, offset: positions[1]!.offset });
    await wal.close();
  });

  it("treats damage inside the last segment as its torn tail: nothing after it is replayed", async () => {
    const dir = tempDir();
    const positions = await writeLog(dir, 5);
    const file = segmentPath(dir, 1);
    const bytes = fs.readFileSync(file);
    bytes[positions[2]!.offset + 12] = bytes[positions[2]!.offset + 12]! ^ 1;
    fs.writeFileSync(file, bytes);
    const replay = collector();
    const wal = await Wal.open({ dir, logger: recordingLogger() }, replay.onRecord);
    expect(replayedSeqs(replay.records)).toEqual([0, 1]);
    expect(wal.stats().tornTailBytesTruncated).toBe(bytes.length - positions[2]!.offset);
    await wal.close();
  });

  it("rewrites a torn header of the last segment and keeps the earlier segments", async () => {
    const dir = tempDir();
    await writeLog(dir, 3);
    fs.writeFileSync(segmentPath(dir, 2), Buffer.from("LVW"));
    const replay = collector();
    const wal = await Wal.open({ dir, logger: recordingLogger() }, replay.onRecord);
    expect(replayedSeqs(replay.records)).toEqual([0, 1, 2]);
    expect(wal.activeSegment).toBe(2);
    expect(wal.stats().tornTailBytesTruncated).toBe(3);
    const position = wal.append(1, payloadFor(7, 10));
    expect(position).toEqual({ segment: 2, offset: 16, length: 19 });
    await wal.commit();
    await wal.close();
    const again = collector();
    await (await Wal.open({ dir, logger: recordingLogger() }, again.onRecord)).close();
    expect(replayedSeqs(again.records)).toEqual([0, 1, 2, 7]);
  });

  it("refuses segments of a newer format instead of misreading them", async () => {
    const dir = tempDir();
    await writeLog(dir, 2);
    const file = segmentPath(dir, 1);
    const bytes = fs.readFileSync(file);
    bytes[5] = 9;
    fs.writeFileSync(file, bytes);
    await expect(Wal.open({ dir, logger: recordingLogger() }, () => {})).rejects.toMatchObject({
      code: "WAL_UNSUPPORTED_FORMAT",
    });
    expect(fs.readFileSync(file).equals(bytes)).toBe(true); // untouched
  });

  it("passes on an error thrown by onRecord unchanged", async () => {
    const dir = tempDir();
    await writeLog(dir, 2);
    const rejection = new Error("owner rejected the record");
    await expect(
      Wal.open({ dir, logger: recordingLogger() }, () => {
        throw rejection;
      }),
    ).rejects.toBe(rejection);
  });

  it("replays a log of many segments one segment at a time", async () => {
    const dir = tempDir();
    const positions = await writeLog(dir, 300, 512);
    expect(positions[299]!.segment).toBeGreaterThan(20);
    const replay = collector();
    const wal = await Wal.open({ dir, segmentSizeBytes: 512, logger: recordingLogger() }, replay.onRecord);
    expect(replay.records.map((r) => r.position)).toEqual(positions);
    await wal.close();
  });
});
