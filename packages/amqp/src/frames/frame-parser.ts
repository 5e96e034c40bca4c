// FrameParser: turns the byte stream of one AMQP connection into frames, incrementally.
//
//   stream:  [protocol header, 8 bytes, server side only] frame frame frame ...
//   frame:   type u8 | channel u16 | size u32 | payload (size bytes) | 0xCE
//
// It checks framing only: the frame-end octet, the frame type (method, header, body, heartbeat)
// and the size against frameMaxBytes, each a 501 FRAME_ERROR thrown as AmqpCodecError (type and
// size are checked as soon as the 7 header bytes are in, before any payload is awaited). It does
// not decode payloads and does not know which frame may follow which (channel 0 rules, heartbeat
// payloads, content sequencing); the connection and channel machines own that. A protocol header
// that is not AMQP 0-9-1 is reported through onProtocolHeader(header, false) rather than thrown,
// because the server must answer it with its own header before closing.
//
// Buffers: a frame that lies inside one chunk is delivered as a zero-copy subarray of that chunk
// (which it keeps alive; copy a payload that is kept for long). Only a frame whose payload
// straddles chunks is assembled, into one buffer of its exact size allocated when its header
// arrives, with one copy per chunk it spans. A frame header split across chunks is gathered in a
// 7-byte scratch buffer. Chunks may be views with any byteOffset: everything here indexes the
// Buffer view, never its underlying ArrayBuffer. The parser keeps no reference to a chunk after
// feed returns, except through payloads it handed out.
//
// After feed throws (a framing error, or an error thrown by a callback) or after a rejected
// protocol header, the parser ignores all further input: the connection is being closed, and
// bytes after a broken frame have no meaning.

import { Buffer } from "node:buffer";
import assert from "node:assert/strict";
import { type AmqpCodecError, frameError } from "../codec/codec-error.js";
import { FRAME_END, FrameType } from "../generated/protocol.js";
import { FRAME_OVERHEAD_BYTES } from "../codec/frame.js";
import { FRAME_HEADER_SIZE } from "../codec/wire-writer.js";

export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
}

/** "AMQP" 0 0 9 1: the protocol header of AMQP 0-9-1. */
export const PROTOCOL_HEADER: Buffer = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
const PROTOCOL_HEADER_BYTES = 8;
const MAX_FRAME_BYTES = 0xffff_ffff;

export interface FrameParserOptions {
  /** Largest whole frame accepted (header + payload + frame-end), as negotiated by tune. */
  frameMaxBytes: number;
  /** True on the server side, where the stream opens with the 8-byte protocol header. */
  expectProtocolHeader: boolean;
}

export type OnFrame = (frame: Frame) => void;
export type OnProtocolHeader = (header: Buffer, ok: boolean) => void;

const Phase = {
  ProtocolHeader: 0,
  FrameHeader: 1,
  FramePayload: 2,
  Stopped: 3,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

function checkFrameMax(frameMaxBytes: number): number {
  assert(
    Number.isInteger(frameMaxBytes) &&
      frameMaxBytes >= FRAME_OVERHEAD_BYTES &&
      frameMaxBytes <= MAX_FRAME_BYTES,
    `frameMaxBytes must be an integer in [${FRAME_OVERHEAD_BYTES}, ${MAX_FRAME_BYTES}], got ${frameMaxBytes}`,
  );
  return frameMaxBytes;
}

export class FrameParser {
  private frameMax: number;
  private phase: Phase;
  private feeding = false;
  /** Bytes of a protocol header or frame header that arrived at the end of a chunk. */
  private readonly headerScratch = Buffer.alloc(PROTOCOL_HEADER_BYTES);
  private headerFilled = 0;
  /** The frame being assembled across chunks: payload then frame-end octet. */
  private assembly: Buffer | null = null;
  private assemblyFilled = 0;
  private assemblyType = 0;
  private assemblyChannel = 0;

  constructor(options: FrameParserOptions) {
    this.frameMax = checkFrameMax(options.frameMaxBytes);
    this.phase = options.expectProtocolHeader ? Phase.ProtocolHeader : Phase.FrameHeader;
  }

  /** Largest whole frame accepted; lower or raise it once connection.tune-ok settles it. */
  get frameMaxBytes(): number {
    return this.frameMax;
  }

  set frameMaxBytes(value: number) {
    this.frameMax = checkFrameMax(value);
  }

  /**
   * Parses as much of `chunk` as completes: onProtocolHeader once with the first 8 bytes (when
   * they are expected), then onFrame for each complete frame, in order. Throws AmqpCodecError
   * 501 on a framing error. Not re-entrant: callbacks must not call feed.
   */
  feed(chunk: Buffer, onFrame: OnFrame, onProtocolHeader?: OnProtocolHeader): void {
    assert(!this.feeding, "FrameParser.feed called from one of its own callbacks");
    if (this.phase === Phase.Stopped) return;
    this.feeding = true;
    try {
      this.parse(chunk, onFrame, onProtocolHeader);
    } catch (err) {
      this.stop();
      throw err;
    } finally {
      this.feeding = false;
    }
  }

  private stop(): void {
    this.phase = Phase.Stopped;
    this.assembly = null;
  }

  private parse(chunk: Buffer, onFrame: OnFrame, onProtocolHeader: OnProtocolHeader | undefined): void {
    let pos = 0;
    if (this.phase === Phase.ProtocolHeader) {
      assert(
        onProtocolHeader !== undefined,
        "onProtocolHeader is required while a protocol header is expected",
      );
      pos = this.readProtocolHeader(chunk, onProtocolHeader);
      // The callback may have stopped the parser (a rejected header); re-read the field.
      if ((this.phase as Phase) !== Phase.FrameHeader) return;
    }
    if (this.phase === Phase.FramePayload) {
      pos = this.continuePayload(chunk, pos, onFrame);
      if (this.phase === Phase.FramePayload) return;
    }
    if (this.headerFilled > 0) {
      pos = this.continueHeader(chunk, pos, onFrame);
      if (this.headerFilled > 0 || this.phase !== Phase.FrameHeader) return;
    }
    this.parseWholeFrames(chunk, pos, onFrame);
  }

  /** The hot loop: frames that lie wholly inside the chunk go out as zero-copy slices. */
  private parseWholeFrames(chunk: Buffer, pos: number, onFrame: OnFrame): void {
    const length = chunk.length;
    while (length - pos >= FRAME_HEADER_SIZE) {
      const type = chunk[pos]!;
      const channel = (chunk[pos + 1]! << 8) | chunk[pos + 2]!;
      const size =
        chunk[pos + 3]! * 0x100_0000 + ((chunk[pos + 4]! << 16) | (chunk[pos + 5]! << 8) | chunk[pos + 6]!);
      this.checkFrameHeader(type, channel, size);
      const payloadStart = pos + FRAME_HEADER_SIZE;
      const endIndex = payloadStart + size;
      if (endIndex >= length) {
        this.startAssembly(type, channel, size, chunk, payloadStart);
        return;
      }
      if (chunk[endIndex] !== FRAME_END) throw badFrameEnd(type, channel, chunk[endIndex]!);
      onFrame({ type, channel, payload: chunk.subarray(payloadStart, endIndex) });
      pos = endIndex + 1;
    }
    if (pos < length) {
      chunk.copy(this.headerScratch, 0, pos, length);
      this.headerFilled = length - pos;
    }
  }

  private readProtocolHeader(chunk: Buffer, onProtocolHeader: OnProtocolHeader): number {
    const take = Math.min(PROTOCOL_HEADER_BYTES - this.headerFilled, chunk.length);
    chunk.copy(this.headerScratch, this.headerFilled, 0, take);
    this.headerFilled += take;
    if (this.headerFilled < PROTOCOL_HEADER_BYTES) return take;
    this.headerFilled = 0;
    const header = Buffer.from(this.headerScratch);
    const ok = header.equals(PROTOCOL_HEADER);
    this.phase = ok ? Phase.FrameHeader : Phase.Stopped;
    onProtocolHeader(header, ok);
    return take;
  }

  /** Completes a frame header begun in an earlier chunk. */
  private continueHeader(chunk: Buffer, pos: number, onFrame: OnFrame): number {
    const take = Math.min(FRAME_HEADER_SIZE - this.headerFilled, chunk.length - pos);
    chunk.copy(this.headerScratch, this.headerFilled, pos, pos + take);
    this.headerFilled += take;
    pos += take;
    if (this.headerFilled < FRAME_HEADER_SIZE) return pos;
    this.headerFilled = 0;
    const h = this.headerScratch;
    const type = h[0]!;
    const channel = h.readUInt16BE(1);
    const size = h.readUInt32BE(3);
    this.checkFrameHeader(type, channel, size);
    const endIndex = pos + size;
    if (endIndex >= chunk.length) {
      this.startAssembly(type, channel, size, chunk, pos);
      return chunk.length;
    }
    if (chunk[endIndex] !== FRAME_END) throw badFrameEnd(type, channel, chunk[endIndex]!);
    onFrame({ type, channel, payload: chunk.subarray(pos, endIndex) });
    return endIndex + 1;
  }

  /** Starts assembling a frame whose payload and frame-end run past the chunk. */
  private startAssembly(type: number, channel: number, size: number, chunk: Buffer, from: number): void {
    const assembly = Buffer.allocUnsafe(size + 1);
    this.assemblyFilled = chunk.copy(assembly, 0, from, chunk.length);
    this.assembly = assembly;
    this.assemblyType = type;
    this.assemblyChannel = channel;
    this.phase = Phase.FramePayload;
  }

  /** Adds the next bytes of the frame under assembly; delivers it when complete. */
  private continuePayload(chunk: Buffer, pos: number, onFrame: OnFrame): number {
    const assembly = this.assembly!;
    const take = Math.min(assembly.length - this.assemblyFilled, chunk.length - pos);
    chunk.copy(assembly, this.assemblyFilled, pos, pos + take);
    this.assemblyFilled += take;
    pos += take;
    if (this.assemblyFilled < assembly.length) return pos;
    const size = assembly.length - 1;
    const type = this.assemblyType;
    const channel = this.assemblyChannel;
    if (assembly[size] !== FRAME_END) throw badFrameEnd(type, channel, assembly[size]!);
    this.assembly = null;
    this.assemblyFilled = 0;
    this.phase = Phase.FrameHeader;
    onFrame({ type, channel, payload: assembly.subarray(0, size) });
    return pos;
  }

  private checkFrameHeader(type: number, channel: number, size: number): void {
    if (
      type !== FrameType.Method &&
      type !== FrameType.Header &&
      type !== FrameType.Body &&
      type !== FrameType.Heartbeat
    ) {
      throw frameError(`unknown frame type ${type} on channel ${channel}`);
    }
    if (size > this.frameMax - FRAME_OVERHEAD_BYTES) {
      throw frameError(
        `frame of ${size + FRAME_OVERHEAD_BYTES} bytes on channel ${channel} exceeds frame-max ${this.frameMax}`,
      );
    }
  }
}

function badFrameEnd(type: number, channel: number, octet: number): AmqpCodecError {
  return frameError(
    `frame of type ${type} on channel ${channel} ends with 0x${octet.toString(16).padStart(2, "0")} instead of 0xce`,
  );
}
