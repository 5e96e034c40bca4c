/**
 * The committed data directory in fixtures/format-v1 was written by the first release of the format.
 * Every later release must still read it, and today's writer must still produce exactly these bytes
 * (a change here is a format change: bump the version, keep reading version 1).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Wal } from "../src/index.js";
import { collector, recordingLogger, tempDir } from "./helpers.js";

const fixtureDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "format-v1");

const EXPECTED = [
  { type: 1, payload: Buffer.from("hi"), position: { segment: 1, offset: 16, length: 11 } },
  { type: 2, payload: Buffer.alloc(0), position: { segment: 1, offset: 27, length: 9 } },
  { type: 255, payload: Buffer.from("head|body"), position: { segment: 1, offset: 36, length: 18 } },
  { type: 7, payload: Buffer.alloc(100, 0xab), position: { segment: 2, offset: 16, length: 109 } },
  { type: 3, payload: Buffer.from("after the big one"), position: { segment: 3, offset: 16, length: 26 } },
];

describe("format version 1", () => {
  it("reads the committed version 1 data directory", async () => {
    const dir = tempDir();
    fs.cpSync(fixtureDir, dir, { recursive: true });
    const replay = collector();
    const wal = await Wal.open({ dir, segmentSizeBytes: 64, logger: recordingLogger() }, replay.onRecord);
    expect(replay.records).toEqual(EXPECTED);
    expect(wal.stats()).toMatchObject({ corruptRecordsSkipped: 0, tornTailBytesTruncated: 0, segments: 3 });
    await wal.close();
  });

  it("still writes exactly those bytes", async () => {
    const dir = tempDir();
    const wal = await Wal.open({ dir, segmentSizeBytes: 64, logger: recordingLogger() }, () => {});
    wal.append(1, Buffer.from("hi"));
    wal.append(2, Buffer.alloc(0));
    wal.append(255, [Buffer.from("head|"), Buffer.from("body")]);
    wal.append(7, Buffer.alloc(100, 0xab));
    wal.append(3, Buffer.from("after the big one"));
    await wal.close();
    const names = fs.readdirSync(fixtureDir).sort();
    expect(fs.readdirSync(dir).sort()).toEqual(names);
    for (const name of names) {
      expect(
        fs.readFileSync(path.join(dir, name)).equals(fs.readFileSync(path.join(fixtureDir, name))),
        name,
      ).toBe(true);
    }
  });
});
