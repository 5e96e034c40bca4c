/**
 * The `leveret` command line: parses flags with commander, resolves the config (flags > env >
 * defaults), starts the broker and prints one line `listening on amqp://HOST:PORT` when ready.
 * SIGINT/SIGTERM shut it down cleanly. Any configuration problem is one line on stderr and exit 1.
 * `leveret users …` and `leveret vhosts …` manage access control in the data dir instead of running.
 */
import { Command, CommanderError } from "commander";
import { pino } from "pino";
import { type RawSettings, resolveConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { startLeveret, VERSION } from "./leveret.js";
import { type AdminTask, runAdminTask } from "./security-admin.js";
import { addUsersCommand } from "./users-command.js";
import { addVhostsCommand } from "./vhosts-command.js";

function buildProgram(): Command {
  return new Command("leveret")
    .description("Leveret: an AMQP 0-9-1 message broker that never loses a confirmed message")
    .version(VERSION)
    .option("--host <host>", "interface to listen on (env LEVERET_HOST; default all interfaces)")
    .option("--port <port>", "AMQP port; 0 picks a free one (env LEVERET_PORT; default 5672)")
    .option("--data-dir <dir>", "where the write-ahead log lives (env LEVERET_DATA_DIR; default ./data)")
    .option("--fsync <policy>", "always | batch | none (env LEVERET_FSYNC; default always)")
    .option("--fsync-interval-ms <ms>", "with --fsync batch: longest wait before a sync (default 10)")
    .option("--segment-size-bytes <bytes>", "log segment size (default 67108864)")
    .option("--wal-write-mode <mode>", "inline | thread-pool: where log writes run (default inline)")
    .option("--body-cache-bytes <bytes>", "message bodies kept in memory; the rest stay on disk (default 67108864)")
    .option("--frame-max-bytes <bytes>", "largest frame accepted (default 131072)")
    .option("--heartbeat-seconds <s>", "heartbeat proposed to clients; 0 disables (default 60)")
    .option("--max-message-size-bytes <bytes>", "largest message body accepted (default 134217728)")
    .option("--log-level <level>", "fatal|error|warn|info|debug|trace|silent (default info)")
    .option("--metrics-port <port>", "serve Prometheus metrics on GET /metrics (env LEVERET_METRICS_PORT; default off)")
    .option("--memory-high-watermark <fraction>", "block publishers above this fraction of RAM (default 0.4)")
    .option("--disk-free-limit-bytes <bytes>", "block publishers below this much free disk (default 50000000)")
    .option("--definitions <file>", "RabbitMQ definitions JSON to import at start (env LEVERET_DEFINITIONS)")
    // No subcommand runs the broker; `users` and `vhosts` manage access control instead.
    .action(() => {})
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
}

export async function main(argv: readonly string[]): Promise<number | undefined> {
  const program = buildProgram();
  const admin: { task?: AdminTask } = {};
  addUsersCommand(program, (task) => (admin.task = task));
  addVhostsCommand(program, (task) => (admin.task = task));
  try {
    program.parse(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  if (admin.task) return runAdminTask(admin.task);
  let config: ReturnType<typeof resolveConfig>;
  try {
    config = resolveConfig(program.opts<RawSettings>(), process.env);
  } catch (error) {
    return failConfig(error);
  }
  const logger = pino({ level: config.logLevel, base: { service: "leveret" } }, pino.destination(2));
  let running: Awaited<ReturnType<typeof startLeveret>>;
  try {
    running = await startLeveret(config, logger);
  } catch (error) {
    return failConfig(error);
  }
  process.stdout.write(`leveret ${VERSION} listening on amqp://${running.host}:${running.port}\n`);
  if (running.metricsPort !== undefined) {
    process.stdout.write(`metrics on http://${running.host}:${running.metricsPort}/metrics\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    running.close().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  return undefined;
}

function failConfig(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`leveret: ${error.message}\n`);
    return 1;
  }
  throw error;
}
