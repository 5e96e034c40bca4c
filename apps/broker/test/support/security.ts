/**
 * Helpers for the access-control tests: run `leveret users|vhosts …` to completion, perform a raw AMQP
 * handshake with any credentials and vhost (to read the exact connection.close the broker answers),
 * and read the reply code and text of a channel error raised by amqplib.
 */
import { spawn } from "node:child_process";
import { PROTOCOL_HEADER } from "@leveret/amqp";
import { LEVERET_BIN } from "@leveret/testkit";
import type { Channel, ChannelModel } from "amqplib";
import { channelClosed, openChannel } from "./amqp.js";
import { RawClient } from "./raw-client.js";

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the leveret command with these arguments (quiet logs) and waits for it to exit. */
export function leveret(args: string[]): Promise<CommandResult> {
  return runLeveret(args, { LEVERET_LOG_LEVEL: "warn" });
}

/** Runs the leveret command with these arguments and extra environment, and waits for it to exit. */
export function runLeveret(args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LEVERET_BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a management command on a data dir and fails the test if it does not succeed. */
export async function admin(dataDir: string, ...args: string[]): Promise<string> {
  const result = await leveret([...args, "--data-dir", dataDir]);
  if (result.code !== 0) throw new Error(`leveret ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/**
 * Handshake up to connection.open with PLAIN credentials; resolves with the method the broker answers
 * last: connection.open-ok, or the connection.close that refused the login or the vhost.
 */
export async function rawOpen(
  port: number,
  user: string,
  password: string,
  vhost: string,
): Promise<{ name: string; replyCode?: number; replyText?: string }> {
  const client = await RawClient.connect(port);
  try {
    client.socket.write(PROTOCOL_HEADER);
    await client.expect("connection.start");
    client.send(0, "connection.start-ok", {
      clientProperties: { product: "security-test" },
      mechanism: "PLAIN",
      response: Buffer.from(`\u0000${user}\u0000${password}`),
      locale: "en_US",
    });
    const tuneOrClose = await client.nextMethod();
    if (tuneOrClose?.name !== "connection.tune") return describe(tuneOrClose);
    const tune = tuneOrClose.args as { channelMax: number; frameMax: number };
    client.send(0, "connection.tune-ok", {
      channelMax: tune.channelMax,
      frameMax: tune.frameMax,
      heartbeat: 0,
    });
    client.send(0, "connection.open", { virtualHost: vhost });
    return describe(await client.nextMethod());
  } finally {
    client.destroy();
  }
}

function describe(method: { name: string; args: unknown } | undefined) {
  if (!method) return { name: "socket closed" };
  const args = method.args as { replyCode?: number; replyText?: string };
  return { name: method.name, replyCode: args.replyCode, replyText: args.replyText };
}

/** The reply code and text that closed a channel, as amqplib reports them. */
export interface Refusal {
  code: number | undefined;
  text: string;
}

/** Runs `operation` on a fresh channel and resolves with the channel error it causes. */
export async function refusalOf(
  connection: ChannelModel,
  operation: (channel: Channel) => unknown,
): Promise<Refusal> {
  const channel = await openChannel(connection);
  const closed = channelClosed(channel);
  Promise.resolve()
    .then(() => operation(channel))
    .catch(() => {}); // the same error arrives through `closed`
  const error = await closed;
  const quoted = /with message "(.*)"$/.exec(error.message);
  return { code: error.code, text: quoted?.[1] ?? error.message };
}
