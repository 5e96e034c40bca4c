/**
 * Sender-selected distribution (RabbitMQ's CC and BCC headers): a message is routed with its routing
 * key plus every key listed in CC and BCC; BCC is removed before the message reaches any consumer.
 */
import { Buffer } from "node:buffer";

export interface SenderSelected {
  extraRoutingKeys: string[];
  hasBcc: boolean;
}

export function senderSelectedKeys(headers: Record<string, unknown> | undefined): SenderSelected | undefined {
  if (!headers) return undefined;
  const cc = headers.CC;
  const bcc = headers.BCC;
  if (cc === undefined && bcc === undefined) return undefined;
  const keys: string[] = [];
  for (const list of [cc, bcc]) {
    if (!Array.isArray(list)) continue;
    for (const key of list) {
      if (typeof key === "string") keys.push(key);
      else if (Buffer.isBuffer(key)) keys.push(key.toString("utf8"));
    }
  }
  return { extraRoutingKeys: keys, hasBcc: bcc !== undefined };
}
