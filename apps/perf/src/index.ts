export { buildProgram, main } from "./cli.js";
export type { CliIo } from "./cli.js";
export { PerfError, PerfErrorCode } from "./errors.js";
export { Histogram, HISTOGRAM_MAX_VALUE } from "./histogram.js";
export { LossLedger } from "./loss-ledger.js";
export type { LostMessage } from "./loss-ledger.js";
export {
  BodyFactory,
  HEADER_SIZE_BYTES,
  MAX_PRODUCER_INDEX,
  MAX_SEQUENCE,
  nowUs,
  readHeader,
  writeHeader,
} from "./message-body.js";
export type { PerfHeader } from "./message-body.js";
export {
  DEFAULT_DURATION_S,
  DEFAULT_URL,
  EXCHANGE_TYPES,
  queuesAreDurable,
  redactUrl,
  resolveOptions,
} from "./options.js";
export type { ExchangeType, PerfOptions, PerfOptionsInput } from "./options.js";
export { runPerf } from "./run.js";
export type { RunHooks } from "./run.js";
export { SequenceTracker } from "./sequence-tracker.js";
export type { RecordOutcome } from "./sequence-tracker.js";
export { PerfStats } from "./stats.js";
export type { Counters, IntervalSnapshot } from "./stats.js";
export {
  buildSummary,
  EXIT_FAILURE,
  EXIT_LOSS,
  EXIT_OK,
  EXIT_USAGE,
  exitCodeFor,
  formatSummary,
  formatTick,
  ratePerS,
  summarizeLatency,
} from "./summary.js";
export type { LatencySummary, PerfSummary, RunTimes } from "./summary.js";
export {
  bindingKeyFor,
  declareTopology,
  deleteTopology,
  queueIndexForConsumer,
  queueIsConsumed,
  queueNames,
  routeForProducer,
} from "./topology.js";
export type { ProducerRoute } from "./topology.js";
