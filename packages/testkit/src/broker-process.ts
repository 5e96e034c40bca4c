/**
 * Starts the real `leveret` broker (apps/broker/bin/leveret.js) in a child process on an ephemeral
 * port, the way a user runs it, and waits for its "listening on amqp://HOST:PORT" line. Tests talk to
 * it over TCP with real clients; kill() sends SIGKILL for crash tests, restart() brings it back on the
 * same port and data dir.
 *
 * Does not build anything: the broker must be built (`pnpm build`) before tests run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { makeTempDir, removeTempDir } from "./temp-dir.js";

/** Path of the broker's executable; the same from src/ and dist/ (both one level under the package). */
export const LEVERET_BIN = fileURLToPath(new URL("../../../apps/broker/bin/leveret.js", import.meta.url));

export interface StartBrokerOptions {
  /** Data directory; a fresh temp dir (removed by stop()) when omitted. */
  dataDir?: string;
  /** Port to listen on; 0 (ephemeral) by default. */
  port?: number;
  /** Extra command-line arguments, e.g. ["--fsync", "batch"]. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** How long to wait for the listening line. */
  startTimeoutMs?: number;
}

export interface RunningBroker {
  readonly port: number;
  /** amqp://guest:guest@127.0.0.1:PORT */
  readonly url: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Everything the broker printed (stdout and stderr), for assertions and post-mortems. */
  output(): string;
  /** SIGTERM (or the given signal) and wait for exit; removes a temp data dir it created. Returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL and wait for exit; keeps the data dir. */
  kill(): Promise<void>;
  /** Starts the broker again on the same port and data dir (after kill() or stop({ keep })). */
  restart(): Promise<RunningBroker>;
}

const LISTENING = /listening on amqp:\/\/[^\s:]+:(\d+)/;

export async function startBroker(options: StartBrokerOptions = {}): Promise<RunningBroker> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await makeTempDir("leveret-broker-"));
  return launch({ ...options, dataDir }, ownsDataDir);
}

async function launch(options: StartBrokerOptions & { dataDir: string }, ownsDataDir: boolean) {
  const args = [
    LEVERET_BIN,
    "--host",
    "127.0.0.1",
    "--port",
    String(options.port ?? 0),
    "--data-dir",
    options.dataDir,
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LEVERET_LOG_LEVEL: process.env.LEVERET_LOG_LEVEL ?? "warn", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`broker did not start within ${options.startTimeoutMs ?? 15000} ms:\n${output}`)),
      options.startTimeoutMs ?? 15000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = LISTENING.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`broker exited (code ${code}, signal ${signal}) before listening:\n${output}`));
    });
  });
  const exited = once(child, "exit");
  const broker: RunningBroker = {
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    dataDir: options.dataDir,
    process: child,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = (await exited) as [number | null];
      if (ownsDataDir) await removeTempDir(options.dataDir);
      return code;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async restart() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      return launch({ ...options, port }, ownsDataDir);
    },
  };
  return broker;
}
