export { resolveConfig, settingNames } from "./config.js";
export type { BrokerConfig, FsyncPolicy, RawSettings } from "./config.js";
export { ConfigError } from "./config-error.js";
export { prepareDataDir } from "./data-dir.js";
export type { DataDirLock } from "./data-dir.js";
export { startLeveret, VERSION } from "./leveret.js";
export type { RunningLeveret } from "./leveret.js";
