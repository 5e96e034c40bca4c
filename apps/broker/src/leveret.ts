/**
 * Wires a running broker: data dir -> access control (security-setup.ts) -> WAL-backed store -> routing
 * core (recovery) -> AMQP listener.
 * A fatal storage error (a failed fdatasync) stops the process: after such an error the kernel may
 * have dropped dirty pages, so the only safe state is the one a restart recovers from disk.
 */
import { readFileSync } from "node:fs";
import { AmqpServer, basicPropertiesCodec } from "@leveret/amqp";
import { Broker, WalStore } from "@leveret/core";
import type { Logger } from "pino";
import type { BrokerConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { prepareDataDir } from "./data-dir.js";
import { createMetricsRegistry, type MetricsEndpoint, serveMetrics } from "./metrics.js";
import { ResourceMonitor, systemProbe } from "./resource-monitor.js";
import { SecuritySetup } from "./security-setup.js";

export interface RunningLeveret {
  readonly host: string;
  readonly port: number;
  readonly broker: Broker;
  /** Port of the Prometheus endpoint, when --metrics-port is set. */
  readonly metricsPort: number | undefined;
  /** Flushes the log, closes connections with 320 CONNECTION_FORCED, releases the data dir. */
  close(): Promise<void>;
}

export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export async function startLeveret(config: BrokerConfig, logger: Logger): Promise<RunningLeveret> {
  const lock = await prepareDataDir(config.dataDir);
  let security: SecuritySetup;
  try {
    security = await SecuritySetup.prepare(lock.path, config.definitions, logger);
  } catch (error) {
    await lock.release();
    throw error;
  }
  const server = new AmqpServer({
    authenticator: security.authenticator,
    frameMaxBytes: config.frameMaxBytes,
    heartbeatSeconds: config.heartbeatSeconds,
    maxMessageSizeBytes: config.maxMessageSizeBytes,
    version: VERSION,
    logger,
  });
  // Bind first: a port in use fails at once, not after a long recovery.
  let address: { host: string; port: number };
  try {
    address = await server.listen(config.port, config.host);
  } catch (error) {
    await lock.release();
    throw listenError(error, config);
  }
  const store = new WalStore({
    dataDir: lock.path,
    fsync: config.fsync,
    fsyncIntervalMs: config.fsyncIntervalMs,
    segmentSizeBytes: config.segmentSizeBytes,
    walWriteMode: config.walWriteMode,
    bodyCacheBytes: config.bodyCacheBytes,
    logger,
  });
  store.onFatal((error) => {
    logger.fatal({ err: error }, "storage failed; stopping so that a restart recovers from what is on disk");
    process.exit(70);
  });
  const broker = await Broker.open({ store, vhosts: security.vhosts, propertiesCodec: basicPropertiesCodec });
  logger.info({ ...broker.recovered, dataDir: lock.path }, "recovered");
  try {
    await security.apply(broker);
  } catch (error) {
    await server.close("startup failed");
    await broker.close();
    await lock.release();
    throw error;
  }
  server.attach(broker);
  const monitor = new ResourceMonitor(
    {
      memoryHighWatermarkBytes: ResourceMonitor.memoryLimitFromFraction(config.memoryHighWatermark),
      diskFreeLimitBytes: config.diskFreeLimitBytes,
    },
    systemProbe(lock.path),
    (reason) => {
      if (reason) logger.warn({ reason }, "resource alarm: publishers blocked");
      else logger.info("resource alarm cleared: publishers unblocked");
      server.setAlarm(reason);
    },
  );
  store.onDiskFull((full) => monitor.setStoreDiskFull(full));
  await monitor.start();
  const metrics = await startMetrics(config, broker, server);
  return {
    host: address.host,
    port: address.port,
    broker,
    metricsPort: metrics?.port,
    async close() {
      monitor.stop();
      await metrics?.close();
      await server.close("shutdown");
      await broker.close();
      await lock.release();
    },
  };
}

function listenError(error: unknown, config: BrokerConfig): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") {
    return new ConfigError(`port ${config.port} on ${config.host} is already in use; set --port / LEVERET_PORT`);
  }
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EACCES") {
    return new ConfigError(`cannot listen on ${config.host}:${config.port} (${code}); set --host / --port`);
  }
  return error as Error;
}

async function startMetrics(config: BrokerConfig, broker: Broker, server: AmqpServer): Promise<MetricsEndpoint | undefined> {
  if (config.metricsPort < 0) return undefined;
  try {
    return await serveMetrics(createMetricsRegistry(broker, server), config.metricsPort, config.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      await server.close("metrics port in use");
      throw new ConfigError(`metrics port ${config.metricsPort} is already in use; set --metrics-port / LEVERET_METRICS_PORT`);
    }
    throw error;
  }
}
