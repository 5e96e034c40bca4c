export { LEVERET_BIN, startBroker } from "./broker-process.js";
export type { RunningBroker, StartBrokerOptions } from "./broker-process.js";
export { makeTempDir, removeTempDir } from "./temp-dir.js";
