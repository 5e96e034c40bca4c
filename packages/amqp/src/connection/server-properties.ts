/**
 * What the server announces in connection.start. Clients test `capabilities` to decide which
 * extensions to use, so only what Leveret really implements is listed as true.
 */
import type { FieldTable } from "../codec/index.js";

export function serverProperties(version: string): FieldTable {
  return {
    product: "Leveret",
    version,
    platform: `Node.js ${process.version}`,
    copyright: "Leveret contributors",
    information: "An AMQP 0-9-1 broker; see the project README",
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      "basic.nack": true,
      consumer_cancel_notify: true,
      "connection.blocked": true,
      authentication_failure_close: true,
      per_consumer_qos: true,
      consumer_priorities: true,
    },
  };
}
