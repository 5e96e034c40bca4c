// Topic routing throughput: 100 vs 100,000 bindings, 10,000 distinct routing keys, with the route
// cache at its default size and with it disabled (so the trie's own scaling is visible).
// Plain node over dist/: run `pnpm --filter @leveret/core build` first (the `bench` script does).
// It prints figures and never fails on a time: benchmarks do not gate CI.
import os from "node:os";
import { TopicRouter } from "../dist/routing/index.js";

const DISTINCT_KEYS = 10_000;
const ROUTES_PER_RUN = 500_000;
const RUNS = 7;
const TENANTS = 5_000;
const SERVICES = 20;
const ENTITIES = 10;
const EVENTS = 8;
const SMALL_BINDINGS = 100;
const LARGE_BINDINGS = 100_000;

/** Deterministic PRNG (mulberry32) so every run routes the same keys over the same bindings. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (random, n) => Math.floor(random() * n);

function routingKey(random) {
  return `t${pick(random, TENANTS)}.svc${pick(random, SERVICES)}.ent${pick(random, ENTITIES)}.evt${pick(random, EVENTS)}`;
}

/** Monitoring-style bindings shared by both sizes: few, broad, the same in every run. */
const GLOBAL_PATTERNS = ["#.evt7", "*.svc3.ent1.*", "t1.#", "*.*.ent9.evt0", "#.svc19.#"];

/** A tenant's own binding: exact keys, '*' in one position, '#' tails and '#' in the middle. */
function tenantPattern(random, firstTenant) {
  const t = `t${firstTenant + pick(random, TENANTS)}`;
  const s = `svc${pick(random, SERVICES)}`;
  const e = `ent${pick(random, ENTITIES)}`;
  const v = `evt${pick(random, EVENTS)}`;
  const shape = random();
  if (shape < 0.35) return `${t}.${s}.${e}.${v}`;
  if (shape < 0.5) return `${t}.${s}.*.${v}`;
  if (shape < 0.6) return `${t}.*.${e}.*`;
  if (shape < 0.8) return `${t}.${s}.#`;
  if (shape < 0.9) return `${t}.#.${v}`;
  return `${t}.*.#`;
}

/**
 * "spread": every binding is for one of the tenants that publish, so with more bindings each key
 * reaches more queues. "disjoint": the same 100 bindings as the small case, plus bindings for 5,000
 * other tenants that never publish: the same deliveries, only the number of bindings grows.
 */
function buildRouter(scenario, bindingCount, routeCacheEntries) {
  const random = prng(42);
  const router = new TopicRouter(routeCacheEntries === undefined ? {} : { routeCacheEntries });
  const queues = Array.from({ length: Math.ceil(bindingCount / 4) }, (_, i) => ({ name: `q${i}` }));
  let bound = 0;
  const bindSome = (count, firstTenant) => {
    while (bound < count) {
      if (router.bind(queues[pick(random, queues.length)], tenantPattern(random, firstTenant), {})) bound++;
    }
  };
  for (const pattern of GLOBAL_PATTERNS) if (router.bind(queues[bound % queues.length], pattern, {})) bound++;
  if (scenario === "spread") {
    bindSome(bindingCount, 0);
  } else {
    bindSome(Math.min(bindingCount, SMALL_BINDINGS), 0);
    bindSome(bindingCount, TENANTS);
  }
  return router;
}

function makeKeys() {
  const random = prng(7);
  const distinct = new Set();
  while (distinct.size < DISTINCT_KEYS) distinct.add(routingKey(random));
  const keys = [...distinct];
  // The publish sequence: uniform over the distinct keys, so the cache sees all 10,000 of them.
  const sequence = Array.from({ length: ROUTES_PER_RUN }, () => keys[pick(random, keys.length)]);
  return { keys, sequence };
}

/** Nanoseconds per route over the whole sequence, and the mean number of destinations per route. */
function timeRoutes(router, sequence) {
  const out = new Set();
  let matched = 0;
  const start = process.hrtime.bigint();
  for (const key of sequence) {
    out.clear();
    router.route(key, undefined, out);
    matched += out.size;
  }
  return {
    ns: Number(process.hrtime.bigint() - start) / sequence.length,
    matchedPerRoute: matched / sequence.length,
  };
}

/**
 * The floor under any router: look the key up in a Map of precomputed answers and add them to the
 * Set. Adding a queue object to a Set reads its identity hash, a cache miss per cold queue object, so
 * a case that delivers to more (and more scattered) queues pays for it whatever the router does.
 */
function floorOf(router, keys) {
  const answers = new Map();
  for (const key of keys) {
    const out = new Set();
    router.route(key, undefined, out);
    answers.set(key, [...out]);
  }
  return {
    route(routingKey, _headers, out) {
      for (const destination of answers.get(routingKey)) out.add(destination);
    },
  };
}

/**
 * Runs the small and the large router alternately, so that a noisy neighbour on a shared machine slows
 * both of a pair rather than one case; reports the median of each and the median of the pair ratios.
 */
function compare(small, large, keys, sequence) {
  const routers = [small, large, floorOf(small, keys), floorOf(large, keys)];
  for (const router of routers) timeRoutes(router, sequence.slice(0, 50_000)); // warm-up
  const runs = [];
  for (let run = 0; run < RUNS; run++) runs.push(routers.map((router) => timeRoutes(router, sequence)));
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const caseOf = (i) => ({
    ns: median(runs.map((run) => run[i].ns)),
    floorNs: median(runs.map((run) => run[i + 2].ns)),
    matchedPerRoute: runs[0][i].matchedPerRoute,
  });
  return { small: caseOf(0), large: caseOf(1), ratio: median(runs.map((run) => run[1].ns / run[0].ns)) };
}

const cpus = os.cpus();
console.log("topic routing benchmark (@leveret/core TopicRouter)");
console.log(
  `node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} CPUs (${cpus[0]?.model ?? "?"})`,
);
console.log(
  `${DISTINCT_KEYS} distinct 4-word keys, ${ROUTES_PER_RUN} routes per run, median of ${RUNS} alternating runs`,
);
const { keys, sequence } = makeKeys();
for (const scenario of ["spread", "disjoint"]) {
  for (const [cacheLabel, cacheEntries] of [
    ["cache on", undefined],
    ["cache off", 0],
  ]) {
    const built = [SMALL_BINDINGS, LARGE_BINDINGS].map((bindings) => {
      const buildStart = process.hrtime.bigint();
      const router = buildRouter(scenario, bindings, cacheEntries);
      return { bindings, router, buildMs: Number(process.hrtime.bigint() - buildStart) / 1e6 };
    });
    const result = compare(built[0].router, built[1].router, keys, sequence);
    for (const [{ bindings, buildMs }, { ns, floorNs, matchedPerRoute }] of [
      [built[0], result.small],
      [built[1], result.large],
    ]) {
      const routesPerSecond = Math.round(1e9 / ns).toLocaleString("en-US");
      console.log(
        `${scenario.padEnd(8)} ${cacheLabel.padEnd(9)} ${String(bindings).padStart(6)} bindings: ` +
          `${routesPerSecond.padStart(9)} routes/s ${ns.toFixed(0).padStart(5)} ns/route ` +
          `(floor ${floorNs.toFixed(0).padStart(3)} ns) ${matchedPerRoute.toFixed(2)} queues/route, ` +
          `bound in ${buildMs.toFixed(0)} ms`,
      );
    }
    console.log(
      `${scenario.padEnd(8)} ${cacheLabel.padEnd(9)} time per route, ${LARGE_BINDINGS} vs ${SMALL_BINDINGS} bindings: ${result.ratio.toFixed(2)}x`,
    );
  }
}
