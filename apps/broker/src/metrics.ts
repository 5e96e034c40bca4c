/**
 * Prometheus metrics over HTTP (GET /metrics), with prom-client: connections, per-queue ready and
 * unacked messages and consumers, the store's disk use and the corrupt records recovery skipped, plus
 * Node's process metrics. Values are read from the live broker at scrape time, so nothing on the
 * message path pays for them.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AmqpServer } from "@leveret/amqp";
import type { Broker } from "@leveret/core";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

export function createMetricsRegistry(broker: Broker, server: AmqpServer): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "leveret_" });
  new Gauge({
    name: "leveret_connections",
    help: "Open AMQP connections",
    registers: [registry],
    collect() {
      this.set(server.connectionCount);
    },
  });
  const queueGauge = (name: string, help: string, read: (q: { messageCount: number; unackedCount: number; consumerCount: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["vhost", "queue"],
      registers: [registry],
      collect() {
        this.reset();
        for (const vhost of broker.vhosts.values()) {
          for (const queue of vhost.queues.values()) this.set({ vhost: vhost.name, queue: queue.name }, read(queue));
        }
      },
    });
  queueGauge("leveret_queue_messages_ready", "Messages ready for delivery", (q) => q.messageCount);
  queueGauge("leveret_queue_messages_unacked", "Messages delivered and not yet acknowledged", (q) => q.unackedCount);
  queueGauge("leveret_queue_consumers", "Consumers", (q) => q.consumerCount);
  new Gauge({
    name: "leveret_store_disk_bytes",
    help: "Bytes the write-ahead logs occupy on disk",
    registers: [registry],
    collect() {
      this.set(broker.store.stats().diskBytes);
    },
  });
  new Gauge({
    name: "leveret_store_corrupt_records_skipped",
    help: "Records with a CRC mismatch skipped during recovery (see the error log for segment and offset)",
    registers: [registry],
    collect() {
      this.set(broker.store.stats().corruptRecordsSkipped);
    },
  });
  new Counter({
    name: "leveret_store_log_writes_total",
    help: "Record writes to the write-ahead logs since start",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(broker.store.stats().logWrites);
    },
  });
  new Counter({
    name: "leveret_store_log_inline_writes_total",
    help: "Record writes done on the event loop (--wal-write-mode inline) rather than on the thread pool",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(broker.store.stats().inlineLogWrites);
    },
  });
  return registry;
}

export async function serveMetrics(registry: Registry, port: number, host: string): Promise<MetricsEndpoint> {
  const http: Server = createServer((request, response) => {
    if (request.method !== "GET" || request.url !== "/metrics") {
      response.writeHead(404).end("not found; try GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: Error) => response.writeHead(500).end(`${error.message}\n`),
    );
  });
  http.listen(port, host);
  await once(http, "listening");
  const address = http.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () =>
      new Promise((resolve) => {
        http.close(() => resolve());
        // Scrapers keep connections alive; shutdown must not wait for them.
        http.closeAllConnections();
      }),
  };
}
