/** A setting the broker cannot run with; its message names the flag and the environment variable. */
export class ConfigError extends Error {
  readonly code = "BROKER_CONFIG_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
