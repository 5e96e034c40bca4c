/**
 * The 16-byte header leveret-perf writes at the start of every message body, so that a consumer can
 * tell which producer sent a message, which one it was, and when it was sent:
 *
 *   offset 0        4          8                        16                size
 *          +--------+----------+------------------------+-- ... --+
 *          |producer| sequence | sent at (µs since epoch)| padding |
 *          |u32 BE  | u32 BE   | f64 BE                  | 0x2e .. |
 *          +--------+----------+------------------------+-- ... --+
 *
 * The timestamp is epoch microseconds as a double: exact for integers below 2^53 (the year 2255),
 * and comparable between processes on one machine, so a consumer-only run can measure latency too.
 *
 * Buffers: makeBody() allocates a fresh buffer per message and hands it to the caller for good (amqplib
 * may still hold it in its write queue after publish() returns, so a body is never reused).
 * readHeader() only reads from the caller's buffer and keeps no reference to it.
 */
import { Buffer } from "node:buffer";

export const HEADER_SIZE_BYTES = 16;
/** Sequences are u32 on the wire. */
export const MAX_SEQUENCE = 0xffff_ffff;
export const MAX_PRODUCER_INDEX = 0xffff_ffff;

export interface PerfHeader {
  producer: number;
  sequence: number;
  sentAtUs: number;
}

/** Wall-clock microseconds since the epoch, with sub-millisecond resolution from the monotonic clock. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Builds bodies of one size; the padding bytes are copied from one template made once. */
export class BodyFactory {
  private readonly template: Buffer;

  constructor(readonly sizeBytes: number) {
    if (!Number.isInteger(sizeBytes) || sizeBytes < HEADER_SIZE_BYTES) {
      throw new RangeError(`a body holds at least the ${HEADER_SIZE_BYTES}-byte header, got ${sizeBytes}`);
    }
    // Printable padding ('.') so a body shown in a management UI is readable.
    this.template = Buffer.alloc(sizeBytes, 0x2e);
  }

  makeBody(header: PerfHeader): Buffer {
    const body = Buffer.allocUnsafe(this.sizeBytes);
    this.template.copy(body, HEADER_SIZE_BYTES, HEADER_SIZE_BYTES);
    writeHeader(body, header);
    return body;
  }
}

export function writeHeader(body: Buffer, header: PerfHeader): void {
  if (header.producer < 0 || header.producer > MAX_PRODUCER_INDEX || !Number.isInteger(header.producer)) {
    throw new RangeError(`producer index out of range: ${header.producer}`);
  }
  if (header.sequence < 0 || header.sequence > MAX_SEQUENCE || !Number.isInteger(header.sequence)) {
    throw new RangeError(`sequence out of range: ${header.sequence}`);
  }
  body.writeUInt32BE(header.producer, 0);
  body.writeUInt32BE(header.sequence, 4);
  body.writeDoubleBE(header.sentAtUs, 8);
}

/** The header of a body, or undefined when the body is too short to be one of ours. */
export function readHeader(body: Uint8Array): PerfHeader | undefined {
  if (body.byteLength < HEADER_SIZE_BYTES) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    producer: view.getUint32(0),
    sequence: view.getUint32(4),
    sentAtUs: view.getFloat64(8),
  };
}
