// Group-commit benchmark: @leveret/wal against a raw writev + fdatasync loop on the same disk.
// Plain node over the built package (run `pnpm --filter @leveret/wal build` first, or `pnpm bench`).
// Usage: node bench/wal-vs-raw.mjs [dir] ; BENCH_SECONDS=4 per case by default; BENCH_PREFILL_BYTES sets
// the WAL's prefillBytes (default: the WAL's default, 4 MiB; 0 = no prefill); BENCH_WRITE_MODE sets its
// writeMode ("inline", the default, or "thread-pool"); BENCH_SELF_CHECK=1 puts a second raw loop in the
// WAL's place, to show how fair the alternation is. See bench/README.md.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { crc32Implementation } from "../dist/checksum.js";
import { Wal } from "../dist/index.js";

const RECORD_PAYLOAD_BYTES = 1024;
/** Both sides take their payloads from the same 1 MiB pool of distinct buffers, round robin. */
const PAYLOAD_POOL = 1024;
const BATCH_SIZES = [1, 16, 64, 256];
const SECONDS_PER_CASE = Number(process.env.BENCH_SECONDS ?? 4);
/**
 * WAL and raw alternate in short slices (half of each case's time each), so that both see the same
 * disk: on a shared virtual disk the sync latency drifts by 2-3x within seconds. The order flips every
 * round (raw, WAL, WAL, raw, raw, WAL…): with a fixed order the side that ran second lost 2-12 % even
 * when both sides were the same raw loop (BENCH_SELF_CHECK, bench/README.md).
 */
const SLICE_MS = 200;
/** Same rotation size as the WAL's default segment, so both pay for file growth alike. */
const RAW_FILE_BYTES = 64 * 1024 * 1024;
/** A second raw loop in the WAL's column: how far the harness itself favours one side. */
const SELF_CHECK = process.env.BENCH_SELF_CHECK === "1";
/** The WAL's zero-filled window (its cost is paid inside the WAL's measured time); the raw loop has none. */
const PREFILL_BYTES =
  process.env.BENCH_PREFILL_BYTES === undefined ? undefined : Number(process.env.BENCH_PREFILL_BYTES);

/** The WAL's writeMode; undefined = its default ("inline"). */
const WRITE_MODE = process.env.BENCH_WRITE_MODE;

const baseDir = fs.mkdtempSync(path.join(process.argv[2] ?? os.tmpdir(), "leveret-wal-bench-"));

function mountOf(dir) {
  const real = fs.realpathSync(dir);
  let best = { mountPoint: "", line: "unknown" };
  for (const line of fs.readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [device, mountPoint, type, options] = line.split(" ");
    if (mountPoint === undefined) continue;
    const inside =
      real === mountPoint || real.startsWith(mountPoint.endsWith("/") ? mountPoint : `${mountPoint}/`);
    if (inside && mountPoint.length >= best.mountPoint.length) {
      best = { mountPoint, line: `${device} on ${mountPoint} type ${type} (${options})` };
    }
  }
  return best.line;
}

function payloadFor(index) {
  const payload = Buffer.alloc(RECORD_PAYLOAD_BYTES, index & 0xff);
  payload.writeUInt32LE(index, 0);
  return payload;
}

/**
 * batchSize producers, each doing append + await commit until the deadline. Only producer 0 reads the
 * clock, once per round of commits, as the raw loop does once per sync: a clock read per record cost
 * the WAL side about 0.15 µs a record (node --cpu-prof), which is the harness, not the WAL.
 */
async function runWalSlice(wal, batchSize, payloads, sliceMs) {
  const syncsBefore = wal.stats().syncs;
  let records = 0;
  let running = true;
  const started = performance.now();
  const deadline = started + sliceMs;
  await Promise.all(
    Array.from({ length: batchSize }, async (_, producer) => {
      while (running) {
        if (producer === 0 && performance.now() >= deadline) {
          running = false;
          break;
        }
        wal.append(1, payloads[records & (PAYLOAD_POOL - 1)]);
        records += 1;
        await wal.commit();
      }
    }),
  );
  return { records, syncs: wal.stats().syncs - syncsBefore, seconds: (performance.now() - started) / 1000 };
}

/**
 * One writev of batchSize records + one fdatasync, appending to files rotated at 64 MiB. The records
 * come round robin from the same payload pool as the WAL's, so that neither side writes from a
 * cache-hot handful of buffers while the other reads 1 MiB of them.
 */
class RawWriter {
  constructor(dir, batchSize, payloads) {
    this.dir = dir;
    this.batchSize = batchSize;
    this.pool = payloads;
    this.next = 0;
    this.payloads = new Array(batchSize);
    this.fileIndex = 0;
    this.fd = fs.openSync(path.join(dir, "0.raw"), "wx+");
    this.position = 0;
  }

  runSlice(sliceMs) {
    let records = 0;
    let syncs = 0;
    const started = performance.now();
    const deadline = started + sliceMs;
    while (performance.now() < deadline) {
      if (this.position + this.batchSize * RECORD_PAYLOAD_BYTES > RAW_FILE_BYTES) this.#rotate();
      for (let i = 0; i < this.batchSize; i += 1) {
        this.payloads[i] = this.pool[this.next];
        this.next = (this.next + 1) & (PAYLOAD_POOL - 1);
      }
      this.position +=
        this.batchSize === 1
          ? fs.writeSync(this.fd, this.payloads[0], 0, RECORD_PAYLOAD_BYTES, this.position)
          : fs.writevSync(this.fd, this.payloads, this.position);
      fs.fdatasyncSync(this.fd);
      records += this.batchSize;
      syncs += 1;
    }
    return { records, syncs, seconds: (performance.now() - started) / 1000 };
  }

  close() {
    fs.closeSync(this.fd);
  }

  #rotate() {
    fs.fdatasyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fileIndex += 1;
    this.fd = fs.openSync(path.join(this.dir, `${this.fileIndex}.raw`), "wx+");
    this.position = 0;
  }
}

function add(total, slice) {
  total.records += slice.records;
  total.syncs += slice.syncs;
  total.seconds += slice.seconds;
}

async function runCase(batchSize) {
  const walDir = fs.mkdtempSync(path.join(baseDir, `wal-${batchSize}-`));
  const rawDir = fs.mkdtempSync(path.join(baseDir, `raw-${batchSize}-`));
  const wal = await Wal.open(
    {
      dir: walDir,
      ...(PREFILL_BYTES === undefined ? {} : { prefillBytes: PREFILL_BYTES }),
      ...(WRITE_MODE === undefined ? {} : { writeMode: WRITE_MODE }),
    },
    () => {},
  );
  const payloads = Array.from({ length: PAYLOAD_POOL }, (_, i) => payloadFor(i));
  const raw = new RawWriter(rawDir, batchSize, payloads);
  const rawInWalsPlace = SELF_CHECK ? new RawWriter(walDir, batchSize, payloads) : null;
  const walTotal = { records: 0, syncs: 0, seconds: 0 };
  const rawTotal = { records: 0, syncs: 0, seconds: 0 };
  const runRaw = () => add(rawTotal, raw.runSlice(SLICE_MS));
  const runWal = async () =>
    add(
      walTotal,
      rawInWalsPlace === null
        ? await runWalSlice(wal, batchSize, payloads, SLICE_MS)
        : rawInWalsPlace.runSlice(SLICE_MS),
    );
  const slices = Math.max(1, Math.round((SECONDS_PER_CASE * 1000) / (2 * SLICE_MS)));
  for (let slice = 0; slice < slices; slice += 1) {
    if (slice % 2 === 0) {
      runRaw();
      await runWal();
    } else {
      await runWal();
      runRaw();
    }
  }
  rawInWalsPlace?.close();
  const { writes, inlineWrites } = wal.stats();
  await wal.close();
  raw.close();
  fs.rmSync(walDir, { recursive: true, force: true });
  fs.rmSync(rawDir, { recursive: true, force: true });
  return { wal: rates(walTotal), raw: rates(rawTotal), inlineShare: inlineWrites / Math.max(1, writes) };
}

function rates({ records, syncs, seconds }) {
  return {
    mbPerSecond: (records * RECORD_PAYLOAD_BYTES) / (1024 * 1024) / seconds,
    recordsPerSecond: records / seconds,
    syncsPerSecond: syncs / seconds,
    recordsPerSync: records / Math.max(1, syncs),
  };
}

const fmt = (value, digits = 1) => value.toFixed(digits).padStart(10);

console.log(
  SELF_CHECK
    ? "@leveret/wal bench SELF CHECK: a second raw loop in the WAL's column (expect ~100%)"
    : "@leveret/wal group commit vs raw writev+fdatasync",
);
console.log(
  `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}), ${os.platform()} ${os.release()}`,
);
console.log(`dir ${baseDir}`);
console.log(`mount ${mountOf(baseDir)}`);
console.log(
  `record payload ${RECORD_PAYLOAD_BYTES} B, fsync "always", WAL prefillBytes ${PREFILL_BYTES ?? "default (4 MiB)"}, writeMode ${WRITE_MODE ?? "default (inline)"}, CRC-32 by ${crc32Implementation}, ${SECONDS_PER_CASE} s per case, WAL and raw alternating in ${SLICE_MS} ms slices (order flipped every round)\n`,
);
console.log(
  `${"batch".padStart(6)} | ${"WAL MB/s".padStart(10)} ${"rec/s".padStart(10)} ${"syncs/s".padStart(10)} ${"rec/sync".padStart(10)} | ${"raw MB/s".padStart(10)} ${"rec/s".padStart(10)} ${"syncs/s".padStart(10)} | ${"WAL/raw".padStart(8)} | ${"inline".padStart(6)}`,
);
try {
  for (const batchSize of BATCH_SIZES) {
    const { wal, raw, inlineShare } = await runCase(batchSize);
    const ratio = wal.mbPerSecond / raw.mbPerSecond;
    console.log(
      `${String(batchSize).padStart(6)} | ${fmt(wal.mbPerSecond, 2)} ${fmt(wal.recordsPerSecond, 0)} ${fmt(wal.syncsPerSecond, 0)} ${fmt(wal.recordsPerSync)} | ${fmt(raw.mbPerSecond, 2)} ${fmt(raw.recordsPerSecond, 0)} ${fmt(raw.syncsPerSecond, 0)} | ${(ratio * 100).toFixed(0).padStart(7)}% | ${(inlineShare * 100).toFixed(0).padStart(5)}%`,
    );
  }
} finally {
  fs.rmSync(baseDir, { recursive: true, force: true });
}
