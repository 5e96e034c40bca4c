/**
 * The record types the core writes to its two logs and their payload encodings.
 *
 * definitions log: msgpack payloads, one record per change of a durable exchange, queue or binding.
 * messages log:
 *   MESSAGE  [u32 header length][msgpack header {id, exchange, routingKey, queues}][raw properties][body]
 *            (the properties length is in the header; the body is the rest, so it is never copied into
 *            a msgpack structure)
 *   SETTLE   msgpack {q: queueId, ids: number[]}
 */
import { Packr } from "msgpackr";

export const DefinitionRecord = {
  ExchangeSaved: 1,
  ExchangeDeleted: 2,
  QueueSaved: 3,
  QueueDeleted: 4,
  BindingSaved: 5,
  BindingDeleted: 6,
} as const;

export const MessageRecord = {
  Message: 16,
  Settle: 17,
} as const;

// Records are read back by a later process: plain maps, no shared structures between records.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: true });

export function packDefinition(value: unknown): Buffer {
  return packr.pack(value);
}

export function unpackDefinition<T>(payload: Buffer): T {
  return packr.unpack(payload) as T;
}

export interface MessageHeader {
  id: number;
  exchange: string;
  routingKey: string;
  queues: string[];
  propertiesLength: number;
}

/** The three pieces of a MESSAGE record, written contiguously by writev (the body is not copied). */
export function encodeMessageRecord(header: MessageHeader, rawProperties: Buffer, body: Buffer): Buffer[] {
  const packed = packr.pack(header);
  const prefix = Buffer.allocUnsafe(4 + packed.length);
  prefix.writeUInt32LE(packed.length, 0);
  packed.copy(prefix, 4);
  return [prefix, rawProperties, body];
}

export function decodeMessageRecord(payload: Buffer): { header: MessageHeader; rawProperties: Buffer; body: Buffer } {
  const headerLength = payload.readUInt32LE(0);
  const header = packr.unpack(payload.subarray(4, 4 + headerLength)) as MessageHeader;
  const propertiesStart = 4 + headerLength;
  const bodyStart = propertiesStart + header.propertiesLength;
  if (bodyStart > payload.length) throw new RangeError("message record shorter than its header says");
  return {
    header,
    rawProperties: payload.subarray(propertiesStart, bodyStart),
    body: payload.subarray(bodyStart),
  };
}
