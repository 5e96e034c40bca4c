/**
 * The messages/ log of the WalStore: persistent messages, their settlements, and the bookkeeping that
 * keeps disk use bounded by the live backlog.
 *
 *   MESSAGE  appended once per publish, listing every durable queue it reached
 *   SETTLE   one per queue per event-loop turn, listing the message ids that left that queue
 *
 * Disk space: a segment's unsettled references are counted. Segments are deleted only from the oldest
 * end: a SETTLE record must never disappear while the message it settles still sits in an older
 * segment, or recovery would bring a settled message back. When the log holds much more than the live
 * data (more than 2x plus two segments), the oldest segment is compacted: its live messages are appended
 * again (listing only the queues that still hold them), committed, and the segment is deleted.
 *
 * Recovery sorts messages by id (publish order), so compaction never changes a queue's order. It keeps
 * no bodies: a recovered message carries only its size, and readBody() fetches the body by the record's
 * current position (compaction moves records, so positions live here, not in the queues).
 */
import { type FsyncPolicy, type RecordPosition, Wal, type WalOptions, type WalState } from "@leveret/wal";
import { loadedBody, type Message } from "./message.js";
import { PropertiesInterner } from "./properties-interner.js";
import type { RecoveredMessage } from "./store.js";
import {
  decodeMessageRecord,
  encodeMessageRecord,
  MessageRecord,
  packDefinition,
  unpackDefinition,
} from "./wal-records.js";

/** Recovered messages carry only raw properties (the broker decodes them): one empty object for all. */
const NO_PROPERTIES: Message["properties"] = Object.freeze({});

interface LiveMessage {
  segment: number;
  /** Where the record starts in its segment (for readBody). */
  offset: number;
  /** Record size, for the live-bytes accounting behind compaction. */
  bytes: number;
  /** Durable queues still holding it: a shared list (see sharedList), never changed in place. */
  queues: readonly string[];
}

/** Distinct queue lists shared, at most; past it each message keeps its own copy. */
const MAX_SHARED_QUEUE_LISTS = 10_000;
const NO_QUEUES: readonly string[] = Object.freeze([]);

export interface MessageLogEvents {
  onFatal(error: Error): void;
  onDiskFull(full: boolean): void;
  /** The message left its last queue (or its append was rolled back): nothing holds it any more. */
  onGone?(messageId: number): void;
}

export interface MessageLogOptions extends Omit<WalOptions, "onStateChange"> {
  fsync?: FsyncPolicy;
}

export interface MessageLogStats {
  liveMessages: number;
  liveBytes: number;
  diskBytes: number;
  compactions: number;
  segmentsDeleted: number;
}

export class MessageLog {
  private readonly live = new Map<number, LiveMessage>();
  private readonly queueLists = new Map<string, readonly string[]>();
  private readonly segmentRefs = new Map<number, number>();
  private readonly segmentLiveBytes = new Map<number, number>();
  private liveBytes = 0;
  private pendingSettles = new Map<string, number[]>();
  private settleFlushScheduled = false;
  /** Messages appended since the last commit() call: voided if that commit fails for lack of space. */
  private uncommitted: number[] = [];
  /** The last commit promise handed out, and the messages whose fate is tied to it. */
  private watchedCommit: Promise<void> | undefined;
  private watchedIds: number[] = [];
  private maintaining = false;
  private closing = false;
  private compactions = 0;
  private segmentsDeleted = 0;

  private constructor(
    private readonly wal: Wal,
    private readonly segmentSizeBytes: number,
    private readonly events: MessageLogEvents,
  ) {}

  static async open(
    options: MessageLogOptions,
    validQueue: (queueId: string) => boolean,
    events: MessageLogEvents,
  ): Promise<{ log: MessageLog; messages: RecoveredMessage[]; maxId: number }> {
    // One object per recovered message: it becomes the message's LiveMessage once replay is over.
    const recovered = new Map<number, { segment: number; offset: number; bytes: number; queues: string[]; message: Message }>();
    const interned = new PropertiesInterner();
    let maxId = 0;
    const holder: { log?: MessageLog } = {};
    const wal = await Wal.open(
      {
        ...options,
        onStateChange: MessageLog.relayState(holder),
      },
      ({ type, payload, position }) => {
        if (type === MessageRecord.Message) {
          const { header, rawProperties, body } = decodeMessageRecord(payload);
          maxId = Math.max(maxId, header.id);
          // The body stays on disk (readBody); the properties are copied out (interned), so that the
          // record's payload buffer is not kept alive by a view into it.
          const message: Message = {
            id: header.id,
            exchange: interned.string(header.exchange),
            routingKey: interned.string(header.routingKey),
            properties: NO_PROPERTIES,
            rawProperties: interned.buffer(rawProperties),
            body: undefined,
            bodySize: body.length,
            persistent: true,
          };
          // A compacted copy replaces the original: its queue list is the newer truth.
          const queues = header.queues.map((q) => interned.string(q));
          recovered.set(header.id, { segment: position.segment, offset: position.offset, bytes: position.length, queues, message });
        } else if (type === MessageRecord.Settle) {
          const { q, ids } = unpackDefinition<{ q: string; ids: number[] }>(payload);
          for (const id of ids) {
            const entry = recovered.get(id);
            if (!entry) continue;
            const index = entry.queues.indexOf(q);
            if (index >= 0) entry.queues.splice(index, 1);
            if (entry.queues.length === 0) recovered.delete(id);
          }
        }
      },
    );
    const log = new MessageLog(wal, options.segmentSizeBytes ?? 64 * 1024 * 1024, events);
    holder.log = log;
    const ordered = [...recovered.values()].sort((a, b) => a.message.id - b.message.id);
    const messages: RecoveredMessage[] = [];
    for (const entry of ordered) {
      // filter's result carries spare capacity: only when a queue is gone, not a million times over.
      if (!entry.queues.every(validQueue)) entry.queues = entry.queues.filter(validQueue);
      if (entry.queues.length === 0) continue;
      // Shared and frozen: the same list serves the caller and the live record.
      const queueIds = log.sharedList(entry.queues);
      messages.push({ message: entry.message, queueIds });
      log.trackRecovered(entry.message.id, { segment: entry.segment, offset: entry.offset, bytes: entry.bytes, queues: queueIds });
    }
    recovered.clear();
    return { log, messages, maxId };
  }

  append(message: Message, queueIds: readonly string[]): void {
    const payload = encodeMessageRecord(
      {
        id: message.id,
        exchange: message.exchange,
        routingKey: message.routingKey,
        queues: queueIds as string[],
        propertiesLength: message.rawProperties.length,
      },
      message.rawProperties,
      loadedBody(message),
    );
    const position = this.wal.append(MessageRecord.Message, payload);
    this.track(message.id, position, queueIds);
    this.uncommitted.push(message.id);
  }

  settle(queueId: string, messageId: number): void {
    let ids = this.pendingSettles.get(queueId);
    if (!ids) {
      ids = [];
      this.pendingSettles.set(queueId, ids);
    }
    ids.push(messageId);
    if (!this.settleFlushScheduled) {
      this.settleFlushScheduled = true;
      setImmediate(() => this.flushSettles(true));
    }
  }

  commit(): Promise<void> {
    this.flushSettles(false);
    const commit = this.wal.commit();
    if (this.uncommitted.length > 0) {
      // Every publish of a group commit gets the same promise: one rollback handler per promise, not
      // one per publish (that was a promise and a closure per persistent message).
      if (commit !== this.watchedCommit) {
        const appended: number[] = [];
        this.watchedCommit = commit;
        this.watchedIds = appended;
        commit.catch((error: Error & { code?: string }) => {
          // The log rolled the batch back: those records do not exist; stop counting them as live.
          if (error.code !== "WAL_NO_SPACE") return;
          for (const id of appended) {
            this.untrack(id);
            this.events.onGone?.(id);
          }
        });
      }
      for (const id of this.uncommitted) this.watchedIds.push(id);
      this.uncommitted.length = 0;
    }
    return commit;
  }

  /** Whether the message is still held by some queue (its record may be read). */
  holds(messageId: number): boolean {
    return this.live.has(messageId);
  }

  /**
   * Reads the body of a live message back from its record (a new buffer). The record is looked up by
   * id at each try: if compaction moved it while the read was under way, it is read again where it went.
   */
  async readBody(messageId: number): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      const live = this.live.get(messageId);
      if (!live) throw new Error(`message ${messageId} is not in the message log`);
      const position: RecordPosition = { segment: live.segment, offset: live.offset, length: live.bytes };
      try {
        const { header, body } = decodeMessageRecord(await this.wal.read(position));
        // Right after the read, check that it is the record asked for (TigerBeetle's habit).
        if (header.id !== messageId) throw new Error(`record at ${position.segment}:${position.offset} holds message ${header.id}, not ${messageId}`);
        return body;
      } catch (error) {
        const now = this.live.get(messageId);
        const moved = now !== undefined && (now.segment !== position.segment || now.offset !== position.offset);
        if (!moved || attempt >= 3) throw error;
      }
    }
  }

  get idle(): boolean {
    return this.wal.idle && this.pendingSettles.size === 0;
  }

  stats(): MessageLogStats & { corruptRecordsSkipped: number } {
    const wal = this.wal.stats();
    return {
      liveMessages: this.live.size,
      liveBytes: this.liveBytes,
      diskBytes: wal.totalBytes,
      compactions: this.compactions,
      segmentsDeleted: this.segmentsDeleted,
      corruptRecordsSkipped: wal.corruptRecordsSkipped,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.flushSettles(false);
    await this.wal.close();
  }

  // ---- internals ----

  /**
   * The Wal keeps its onStateChange callback for as long as it lives. Made here, not in open(), so that
   * it does not share open()'s scope and keep the replay's per-message garbage alive with it.
   */
  private static relayState(holder: { log?: MessageLog }): (state: WalState) => void {
    return (state) => holder.log?.onWalState(state);
  }

  private onWalState(state: WalState): void {
    if (state.failed) this.events.onFatal(state.error ?? new Error("the message log failed"));
    this.events.onDiskFull(state.blockedByDiskFull);
  }

  /**
   * The one shared copy of a queue list: a backlog's messages mostly sit on the same queue or queues,
   * and a list per message would cost an array each, a million times over.
   */
  private sharedList(queues: readonly string[]): readonly string[] {
    if (queues.length === 0) return NO_QUEUES;
    const key = queues.join("\u0000");
    const known = this.queueLists.get(key);
    if (known) return known;
    const list = Object.freeze([...queues]);
    if (this.queueLists.size < MAX_SHARED_QUEUE_LISTS) this.queueLists.set(key, list);
    return list;
  }

  private trackRecovered(id: number, live: LiveMessage): void {
    this.live.set(id, live);
    this.segmentRefs.set(live.segment, (this.segmentRefs.get(live.segment) ?? 0) + live.queues.length);
    this.segmentLiveBytes.set(live.segment, (this.segmentLiveBytes.get(live.segment) ?? 0) + live.bytes);
    this.liveBytes += live.bytes;
  }

  private track(id: number, position: RecordPosition, queueIds: readonly string[]): void {
    const { segment, offset, length: bytes } = position;
    const queues = this.sharedList(queueIds);
    this.live.set(id, { segment, offset, bytes, queues });
    this.segmentRefs.set(segment, (this.segmentRefs.get(segment) ?? 0) + queues.length);
    this.segmentLiveBytes.set(segment, (this.segmentLiveBytes.get(segment) ?? 0) + bytes);
    this.liveBytes += bytes;
  }

  private untrack(id: number): void {
    const live = this.live.get(id);
    if (!live) return;
    this.live.delete(id);
    this.segmentRefs.set(live.segment, (this.segmentRefs.get(live.segment) ?? 0) - live.queues.length);
    this.segmentLiveBytes.set(live.segment, (this.segmentLiveBytes.get(live.segment) ?? 0) - live.bytes);
    this.liveBytes -= live.bytes;
  }

  private flushSettles(commit: boolean): void {
    this.settleFlushScheduled = false;
    if (this.pendingSettles.size === 0) return;
    const batch = this.pendingSettles;
    this.pendingSettles = new Map();
    for (const [queueId, ids] of batch) {
      this.wal.append(MessageRecord.Settle, packDefinition({ q: queueId, ids }));
      for (const id of ids) this.release(id, queueId);
    }
    // A lost settle only causes a redelivery, so nobody waits for this commit; it just gets the
    // records written. A failed sync is still fatal (reported through onWalState).
    if (commit) this.wal.commit().catch(() => {});
    void this.maintain();
  }

  private release(id: number, queueId: string): void {
    const live = this.live.get(id);
    if (!live) return;
    const index = live.queues.indexOf(queueId);
    if (index < 0) return;
    live.queues = live.queues.length === 1 ? NO_QUEUES : this.sharedList(live.queues.filter((q) => q !== queueId));
    this.segmentRefs.set(live.segment, (this.segmentRefs.get(live.segment) ?? 1) - 1);
    if (live.queues.length === 0) {
      this.live.delete(id);
      this.segmentLiveBytes.set(live.segment, (this.segmentLiveBytes.get(live.segment) ?? 0) - live.bytes);
      this.liveBytes -= live.bytes;
      this.events.onGone?.(id);
    }
  }

  /** Deletes settled segments from the oldest end, and compacts the oldest when the log is bloated. */
  private async maintain(): Promise<void> {
    if (this.maintaining || this.closing) return;
    this.maintaining = true;
    try {
      for (;;) {
        const oldest = this.wal.segments()[0];
        if (!oldest || !oldest.sealed) return;
        if ((this.segmentRefs.get(oldest.segment) ?? 0) <= 0) {
          await this.deleteSegment(oldest.segment);
          continue;
        }
        const diskBytes = this.wal.stats().totalBytes;
        if (diskBytes <= 2 * this.liveBytes + 2 * this.segmentSizeBytes) return;
        await this.compact(oldest.segment);
      }
    } catch (error) {
      // Out of space waits for room (the disk alarm is up); a log closed under us is a shutdown.
      const code = (error as { code?: string }).code;
      if (code !== "WAL_NO_SPACE" && !(this.closing && code === "WAL_CLOSED")) this.events.onFatal(error as Error);
    } finally {
      this.maintaining = false;
    }
  }

  private async compact(segment: number): Promise<void> {
    const found: { header: ReturnType<typeof decodeMessageRecord>["header"]; rawProperties: Buffer; body: Buffer }[] = [];
    await this.wal.readSegment(segment, ({ type, payload }) => {
      if (type === MessageRecord.Message) found.push(decodeMessageRecord(payload));
    });
    // Synchronously from here to the appends: the queue lists copied are exactly the live ones, so no
    // SETTLE can slip in between reading a list and writing the copy.
    const moved: { id: number; queues: string[]; from: LiveMessage }[] = [];
    for (const { header, rawProperties, body } of found) {
      const live = this.live.get(header.id);
      if (!live || live.segment !== segment) continue;
      const queues = [...live.queues];
      const position = this.wal.append(
        MessageRecord.Message,
        encodeMessageRecord({ ...header, queues }, rawProperties, body),
      );
      this.untrack(header.id);
      this.track(header.id, position, queues);
      moved.push({ id: header.id, queues, from: live });
    }
    try {
      await this.wal.commit();
    } catch (error) {
      // The copies do not exist: the originals stay live where they were.
      for (const { id, from } of moved) {
        const live = this.live.get(id);
        if (!live) continue;
        this.untrack(id);
        this.track(id, { segment: from.segment, offset: from.offset, length: from.bytes }, live.queues);
      }
      throw error;
    }
    this.compactions++;
    if ((this.segmentRefs.get(segment) ?? 0) <= 0) await this.deleteSegment(segment);
  }

  private async deleteSegment(segment: number): Promise<void> {
    await this.wal.deleteSegment(segment);
    this.segmentRefs.delete(segment);
    this.segmentLiveBytes.delete(segment);
    this.segmentsDeleted++;
  }
}

