// The ceiling of any WAL built on Node's asynchronous fs: a loop of awaited fs.writev calls through an
// O_DSYNC descriptor (one thread-pool round trip per sync, no checksums, no batching logic) against
// the synchronous write+fdatasync loop of wal-vs-raw.mjs, alternating in 200 ms slices. See README.md.
// Usage: node bench/thread-pool-floor.mjs [dir] ; BENCH_SECONDS=4 per case by default.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const RECORD_BYTES = 1024;
const BATCH_SIZES = [1, 16, 64, 256];
const SECONDS_PER_CASE = Number(process.env.BENCH_SECONDS ?? 4);
const SLICE_MS = 200;

const baseDir = fs.mkdtempSync(path.join(process.argv[2] ?? os.tmpdir(), "leveret-wal-floor-"));

function syncSlice(fd, buffers, state) {
  let records = 0;
  const started = performance.now();
  while (performance.now() - started < SLICE_MS) {
    state.position += fs.writevSync(fd, buffers, state.position);
    fs.fdatasyncSync(fd);
    records += buffers.length;
  }
  return { records, ms: performance.now() - started };
}

async function asyncSlice(fd, buffers, state) {
  let records = 0;
  const started = performance.now();
  while (performance.now() - started < SLICE_MS) {
    state.position += await new Promise((resolve, reject) =>
      fs.writev(fd, buffers, state.position, (error, written) => (error ? reject(error) : resolve(written))),
    );
    records += buffers.length;
  }
  return { records, ms: performance.now() - started };
}

console.log(
  `thread-pool floor: awaited O_DSYNC fs.writev vs writevSync+fdatasyncSync, ${RECORD_BYTES} B records`,
);
console.log(`node ${process.version}, ${os.cpus().length} CPUs, dir ${baseDir}\n`);
console.log(
  `${"batch".padStart(6)} | ${"sync rec/s".padStart(11)} | ${"async rec/s".padStart(11)} | ${"async/sync".padStart(10)}`,
);
try {
  for (const batchSize of BATCH_SIZES) {
    const buffers = Array.from({ length: batchSize }, (_, i) => Buffer.alloc(RECORD_BYTES, i & 0xff));
    const syncFd = fs.openSync(path.join(baseDir, `sync-${batchSize}`), "wx+");
    const asyncPath = path.join(baseDir, `async-${batchSize}`);
    fs.closeSync(fs.openSync(asyncPath, "wx+"));
    const asyncFd = fs.openSync(asyncPath, fs.constants.O_RDWR | fs.constants.O_DSYNC);
    const totals = { sync: { records: 0, ms: 0 }, async: { records: 0, ms: 0 } };
    const states = { sync: { position: 0 }, async: { position: 0 } };
    const slices = Math.max(1, Math.round((SECONDS_PER_CASE * 1000) / (2 * SLICE_MS)));
    for (let slice = 0; slice < slices; slice += 1) {
      const a = syncSlice(syncFd, buffers, states.sync);
      const b = await asyncSlice(asyncFd, buffers, states.async);
      totals.sync.records += a.records;
      totals.sync.ms += a.ms;
      totals.async.records += b.records;
      totals.async.ms += b.ms;
    }
    fs.closeSync(syncFd);
    fs.closeSync(asyncFd);
    const syncRate = (totals.sync.records / totals.sync.ms) * 1000;
    const asyncRate = (totals.async.records / totals.async.ms) * 1000;
    console.log(
      `${String(batchSize).padStart(6)} | ${syncRate.toFixed(0).padStart(11)} | ${asyncRate.toFixed(0).padStart(11)} | ${((asyncRate / syncRate) * 100).toFixed(0).padStart(9)}%`,
    );
  }
} finally {
  fs.rmSync(baseDir, { recursive: true, force: true });
}
