/**
 * The record types the core writes to its two logs and their payload encodings.
 *
 * definitions log: msgpack payloads, one record per change of a durable exchange, queue or binding.
 * messages log:
 *   MESSAGE  [fixed binary header][raw properties][body], the header laid out as below (all
 *            little-endian), then the properties and the body written after it by writev, never copied:
 *
 *     0          4          8          12              16       18
 *     +----------+----------+----------+---------------+--------+----------+--------+-----+--------+
 *     |headerLen |  id low  |  id high | propertiesLen | exLen  | exchange | rkLen  | rk  | queues |
 *     |   u32    |   u32    |   u32    |     u32       |  u16   |  utf8    |  u16   |utf8 |  ...   |
 *     +----------+----------+----------+---------------+--------+----------+--------+-----+--------+
 *     queues = [u16 count] then per queue [u16 length][utf8 name]; headerLen counts every header byte.
 *
 *            A fixed layout instead of msgpack: encoding it is a few writes into one small buffer per
 *            publish (msgpack of the header was the largest allocation of the persistent publish path).
 *   SETTLE     msgpack {q: queueId, ids: number[]}: the messages left that queue
 *   DELIVERED  msgpack {q: queueId, ids: number[]}: that queue handed the messages out for the first time
 *
 * Buffers: encodeMessageRecord returns a fresh header and the caller's properties and body, uncopied;
 * decodeMessageRecord returns views into the payload it is given.
 */
import { Buffer } from "node:buffer";
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
  Delivered: 18,
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

const FIXED_HEADER_BYTES = 18;
const MAX_NAME_BYTES = 0xffff;

function nameBytes(what: string, value: string): number {
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > MAX_NAME_BYTES) throw new RangeError(`${what} of ${bytes} bytes is too long to store`);
  return bytes;
}

function writeName(target: Buffer, offset: number, value: string, bytes: number): number {
  target.writeUInt16LE(bytes, offset);
  const start = offset + 2;
  if (bytes === value.length && bytes <= 64) {
    // ASCII (one byte per character) and short, as names almost always are: a plain loop is cheaper
    // than the call into the native UTF-8 encoder.
    for (let i = 0; i < bytes; i++) target[start + i] = value.charCodeAt(i);
  } else if (bytes > 0) {
    target.write(value, start, bytes, "utf8");
  }
  return start + bytes;
}

/** The three pieces of a MESSAGE record, written contiguously by writev (the body is not copied). */
export function encodeMessageRecord(header: MessageHeader, rawProperties: Buffer, body: Buffer): Buffer[] {
  const { id, exchange, routingKey, queues } = header;
  if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`message id ${id} is not storable`);
  if (queues.length > MAX_NAME_BYTES) throw new RangeError(`${queues.length} queues are too many to store`);
  const exchangeBytes = nameBytes("exchange name", exchange);
  const routingKeyBytes = nameBytes("routing key", routingKey);
  let headerBytes = FIXED_HEADER_BYTES + exchangeBytes + 2 + routingKeyBytes + 2;
  const queueBytes: number[] = new Array(queues.length);
  for (let i = 0; i < queues.length; i++) {
    queueBytes[i] = nameBytes("queue name", queues[i]!);
    headerBytes += 2 + queueBytes[i]!;
  }
  const prefix = Buffer.allocUnsafe(headerBytes);
  prefix.writeUInt32LE(headerBytes, 0);
  prefix.writeUInt32LE(id % 0x1_0000_0000, 4);
  prefix.writeUInt32LE(Math.floor(id / 0x1_0000_0000), 8);
  prefix.writeUInt32LE(rawProperties.length, 12);
  let offset = writeName(prefix, 16, exchange, exchangeBytes);
  offset = writeName(prefix, offset, routingKey, routingKeyBytes);
  prefix.writeUInt16LE(queues.length, offset);
  offset += 2;
  for (let i = 0; i < queues.length; i++) offset = writeName(prefix, offset, queues[i]!, queueBytes[i]!);
  // Asserted before it reaches the disk: a header that does not add up would be unreadable later.
  if (offset !== headerBytes) throw new Error(`message header encoded ${offset} of ${headerBytes} bytes`);
  return [prefix, rawProperties, body];
}

function readName(payload: Buffer, offset: number, end: number): [string, number] {
  if (offset + 2 > end) throw new RangeError("message record header is truncated");
  const bytes = payload.readUInt16LE(offset);
  const start = offset + 2;
  if (start + bytes > end) throw new RangeError("message record header is truncated");
  return [payload.toString("utf8", start, start + bytes), start + bytes];
}

/** Splits a MESSAGE payload; throws RangeError if its header does not add up (the record is unusable). */
export function decodeMessageRecord(payload: Buffer): {
  header: MessageHeader;
  rawProperties: Buffer;
  body: Buffer;
} {
  if (payload.length < FIXED_HEADER_BYTES) throw new RangeError("message record shorter than its header");
  const headerBytes = payload.readUInt32LE(0);
  if (headerBytes < FIXED_HEADER_BYTES || headerBytes > payload.length) {
    throw new RangeError(`message record header of ${headerBytes} bytes does not fit its ${payload.length}`);
  }
  const id = payload.readUInt32LE(4) + payload.readUInt32LE(8) * 0x1_0000_0000;
  const propertiesLength = payload.readUInt32LE(12);
  const [exchange, afterExchange] = readName(payload, 16, headerBytes);
  const [routingKey, afterRoutingKey] = readName(payload, afterExchange, headerBytes);
  if (afterRoutingKey + 2 > headerBytes) throw new RangeError("message record header is truncated");
  const queueCount = payload.readUInt16LE(afterRoutingKey);
  const queues: string[] = new Array(queueCount);
  let offset = afterRoutingKey + 2;
  for (let i = 0; i < queueCount; i++) [queues[i], offset] = readName(payload, offset, headerBytes);
  if (offset !== headerBytes)
    throw new RangeError(`message record header ends at ${offset}, not ${headerBytes}`);
  const bodyStart = headerBytes + propertiesLength;
  if (bodyStart > payload.length) throw new RangeError("message record shorter than its header says");
  return {
    header: { id, exchange, routingKey, queues, propertiesLength },
    rawProperties: payload.subarray(headerBytes, bodyStart),
    body: payload.subarray(bodyStart),
  };
}
