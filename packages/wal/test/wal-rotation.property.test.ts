import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryFileIo, type RecordPosition, SEGMENT_HEADER_BYTES, Wal } from "../src/index.js";
import { collector, recordingLogger } from "./helpers.js";

interface Appended {
  type: number;
  payload: Buffer;
  position: RecordPosition;
}

const recordSpec = fc.record({
  type: fc.integer({ min: 1, max: 255 }),
  payload: fc.uint8Array({ maxLength: 600 }),
  splitAt: fc.option(fc.nat(), { nil: undefined }),
  commitAfter: fc.boolean(),
});

describe("segment rotation (property)", () => {
  it("replays exactly the appended records, in order, for any record and segment sizes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 26, max: 2000 }),
        fc.array(recordSpec, { minLength: 1, maxLength: 60 }),
        async (segmentSizeBytes, specs) => {
          const io = new MemoryFileIo();
          const wal = await Wal.open(
            { dir: "/wal", fileIo: io, segmentSizeBytes, logger: recordingLogger() },
            () => {},
          );
          const appended: Appended[] = [];
          for (const spec of specs) {
            const payload = Buffer.from(spec.payload);
            const parts =
              spec.splitAt === undefined
                ? payload
                : [
                    payload.subarray(0, spec.splitAt % (payload.length + 1)),
                    payload.subarray(spec.splitAt % (payload.length + 1)),
                  ];
            const position = wal.append(spec.type, parts);
            appended.push({ type: spec.type, payload, position });
            if (spec.commitAfter) await wal.commit();
          }
          for (const { position } of appended) {
            // A record never spans segments; only a record alone in its segment may exceed the size.
            const fits = position.offset + position.length <= segmentSizeBytes;
            expect(fits || position.offset === SEGMENT_HEADER_BYTES).toBe(true);
          }
          for (const record of appended.slice(-3))
            expect((await wal.read(record.position)).equals(record.payload)).toBe(true);
          await wal.close();

          const replay = collector();
          const reopened = await Wal.open(
            { dir: "/wal", fileIo: io, segmentSizeBytes, logger: recordingLogger() },
            replay.onRecord,
          );
          expect(
            replay.records.map((r) => ({ type: r.type, payload: r.payload, position: r.position })),
          ).toEqual(appended);
          expect(reopened.stats()).toMatchObject({ corruptRecordsSkipped: 0, tornTailBytesTruncated: 0 });
          for (const record of appended.slice(0, 3)) {
            expect((await reopened.read(record.position)).equals(record.payload)).toBe(true);
          }
          await reopened.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
