/**
 * The messages/ log of the WalStore: persistent messages, their settlements, and the bookkeeping that
 * keeps disk use bounded by the live backlog.
 *
 *   MESSAGE    appended once per publish, listing every durable queue it reached
 *   SETTLE     one per queue per event-loop turn, listing the message ids that left that queue
 *   DELIVERED  one per queue per event-loop turn, listing the message ids it handed out the first time
 *
 * Disk space: a segment's unsettled references are counted. Segments are deleted only from the oldest
 * end: a SETTLE record must never disappear while the message it settles still sits in an older
 * segment, or recovery would bring a settled message back. When the log holds much more than the live
 * data (more than 2x plus two segments), the oldest segment is compacted: its live messages are appended
 * again (listing only the queues that still hold them), committed, and the segment is deleted.
 *
 * Recovery hands messages over by id (publish order), so compaction never changes a queue's order. It
 * keeps no bodies: a recovered message carries only its size, and readMessage() reads the record at its
 * current position (compaction moves records, so positions live here, in the compact LiveIndex, not in
 * the queues). A compacted copy is followed by DELIVERED records for the queues that had handed it out.
 */
import { type FsyncPolicy, type RecordPosition, Wal, type WalOptions, type WalState } from "@leveret/wal";
import type { LiveIndex, LiveRow } from "./live-index.js";
import { loadedBody, type Message, type MessageProperties } from "./message.js";
import { MessageLogReplay } from "./message-log-replay.js";
import type { QueueingTraits } from "./message-log-replay.js";
import { EMPTY_LIST, type QueueListTable } from "./queue-list-table.js";
import type { RecoveredMessage, RecoveredMessages, StoredMessage } from "./store.js";
import { decodeMessageRecord, encodeMessageRecord, MessageRecord, packDefinition } from "./wal-records.js";

/**
 * How long settles and delivered markers wait in memory for a publish's commit to carry them before
 * they are written and synced on their own. Under load a publish commit comes within the turn and they
 * ride in its write (a write of their own would also cost the next publish batch an fdatasync instead
 * of an O_DSYNC write); alone, they are durable within this delay. A lost settle only means a
 * redelivery, which at-least-once allows; a lost marker only a missing redelivered flag.
 */
const MARKER_SYNC_DELAY_MS = 10;

export interface MessageLogEvents {
  onFatal(error: Error): void;
  onDiskFull(full: boolean): void;
  /** The message left its last queue (or its append was rolled back): nothing holds it any more. */
  onGone?(messageId: number): void;
}

export interface MessageLogOptions extends Omit<WalOptions, "onStateChange"> {
  fsync?: FsyncPolicy;
  /** Lets recovery report each message's expiration and priority (the log keeps only raw properties). */
  decodeProperties?: (raw: Buffer) => MessageProperties;
}

export interface MessageLogStats {
  liveMessages: number;
  liveBytes: number;
  diskBytes: number;
  compactions: number;
  segmentsDeleted: number;
}

export class MessageLog {
  private readonly segmentRefs = new Map<number, number>();
  private readonly segmentLiveBytes = new Map<number, number>();
  private liveBytes = 0;
  private pendingSettles = new Map<string, number[]>();
  private pendingDelivered = new Map<string, number[]>();
  private markerSync: NodeJS.Timeout | undefined;
  /** Messages appended since the last commit() call: voided if that commit fails for lack of space. */
  private uncommitted: number[] = [];
  /** The last commit promise handed out, and the messages whose fate is tied to it. */
  private watchedCommit: Promise<void> | undefined;
  private watchedIds: number[] = [];
  private maintaining = false;
  private closing = false;
  private compactions = 0;
  private segmentsDeleted = 0;
  /** The index's queue lists (numbers in its rows refer to them). */
  private readonly lists: QueueListTable;

  private constructor(
    private readonly wal: Wal,
    private readonly segmentSizeBytes: number,
    private readonly events: MessageLogEvents,
    private readonly index: LiveIndex,
  ) {
    this.lists = index.lists;
  }

  static async open(
    options: MessageLogOptions,
    validQueue: (queueId: string) => boolean,
    events: MessageLogEvents,
  ): Promise<{ log: MessageLog; messages: RecoveredMessages; maxId: number }> {
    const { decodeProperties, ...walOptions } = options;
    const replay = new MessageLogReplay(decodeProperties);
    const holder: { log?: MessageLog } = {};
    const wal = await Wal.open({ ...walOptions, onStateChange: MessageLog.relayState(holder) }, (record) =>
      replay.apply(record),
    );
    const log = new MessageLog(wal, options.segmentSizeBytes ?? 64 * 1024 * 1024, events, replay.index);
    holder.log = log;
    log.adoptReplayed(validQueue);
    return { log, messages: log.recoveredMessages(replay.traits), maxId: replay.maxId };
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
    this.track(message.id, position, message.bodySize, this.lists.acquire(queueIds), EMPTY_LIST);
    this.uncommitted.push(message.id);
  }

  settle(queueId: string, messageId: number): void {
    this.pend(this.pendingSettles, queueId, messageId);
  }

  /** The queue handed the message out for the first time (recorded, not synced on its own). */
  markDelivered(queueId: string, messageId: number): void {
    if (this.index.markDelivered(messageId, queueId)) this.pend(this.pendingDelivered, queueId, messageId);
  }

  commit(): Promise<void> {
    this.flushPending();
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
    return this.index.has(messageId);
  }

  /**
   * Reads a live message back from its record (new buffers). The record is looked up by id at each
   * try: if compaction moved it while the read was under way, it is read again where it went.
   */
  async readMessage(messageId: number): Promise<StoredMessage> {
    for (let attempt = 0; ; attempt++) {
      const row = this.index.read(messageId);
      if (!row) throw new Error(`message ${messageId} is not in the message log`);
      const position: RecordPosition = { segment: row.segment, offset: row.offset, length: row.bytes };
      try {
        const { header, rawProperties, body } = decodeMessageRecord(await this.wal.read(position));
        // Right after the read, check that it is the record asked for (TigerBeetle's habit).
        if (header.id !== messageId) throw new Error(`record at ${position.segment}:${position.offset} holds message ${header.id}, not ${messageId}`);
        return { exchange: header.exchange, routingKey: header.routingKey, rawProperties, body };
      } catch (error) {
        const now = this.index.read(messageId);
        const moved = now !== undefined && (now.segment !== position.segment || now.offset !== position.offset);
        if (!moved || attempt >= 3) throw error;
      }
    }
  }

  get idle(): boolean {
    return this.wal.idle && this.pendingSettles.size === 0 && this.pendingDelivered.size === 0;
  }

  stats(): MessageLogStats & { corruptRecordsSkipped: number; writes: number; inlineWrites: number } {
    const wal = this.wal.stats();
    return {
      liveMessages: this.index.size,
      liveBytes: this.liveBytes,
      diskBytes: wal.totalBytes,
      compactions: this.compactions,
      segmentsDeleted: this.segmentsDeleted,
      corruptRecordsSkipped: wal.corruptRecordsSkipped,
      writes: wal.writes,
      inlineWrites: wal.inlineWrites,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.markerSync);
    this.flushPending();
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

  /** After replay: drops queues that no longer exist, then counts what each segment holds. */
  private adoptReplayed(validQueue: (queueId: string) => boolean): void {
    this.index.forEachId((id) => {
      const { queues, segment, bytes } = this.index.read(id) as LiveRow;
      for (const queueId of this.lists.get(queues)) {
        if (!validQueue(queueId) && this.index.dropQueue(id, queueId) === "gone") return;
      }
      this.count(segment, bytes, this.lists.get((this.index.read(id) as LiveRow).queues).length);
    });
  }

  /** The recovered messages, visited in id order from the index (one reused object, no list). */
  private recoveredMessages(traits: ReadonlyMap<number, QueueingTraits>): RecoveredMessages {
    const index = this.index;
    const lists = this.lists;
    return {
      count: index.size,
      forEach(visit: (message: Readonly<RecoveredMessage>) => void): void {
        const message: RecoveredMessage = { id: 0, bodySize: 0, queueIds: [], deliveredQueueIds: [], expiration: undefined, priority: undefined };
        index.forEachId((id) => {
          const row = index.read(id) as LiveRow;
          const found = traits.get(id);
          message.id = id;
          message.bodySize = row.bodySize;
          message.queueIds = lists.get(row.queues);
          message.deliveredQueueIds = lists.get(row.delivered);
          message.expiration = found?.expiration;
          message.priority = found?.priority;
          visit(message);
        });
      },
    };
  }

  private pend(pending: Map<string, number[]>, queueId: string, messageId: number): void {
    let ids = pending.get(queueId);
    if (!ids) {
      ids = [];
      pending.set(queueId, ids);
    }
    ids.push(messageId);
    this.syncMarkersSoon();
  }

  private syncMarkersSoon(): void {
    if (this.markerSync !== undefined) return;
    this.markerSync = setTimeout(() => {
      this.markerSync = undefined;
      if (this.closing) return;
      this.flushPending();
      // A failed sync is still fatal (reported through onWalState); nobody else waits for this one.
      this.wal.commit().catch(() => {});
    }, MARKER_SYNC_DELAY_MS);
    this.markerSync.unref();
  }

  private count(segment: number, bytes: number, references: number): void {
    this.segmentRefs.set(segment, (this.segmentRefs.get(segment) ?? 0) + references);
    this.segmentLiveBytes.set(segment, (this.segmentLiveBytes.get(segment) ?? 0) + bytes);
    this.liveBytes += bytes;
  }

  private track(id: number, position: RecordPosition, bodySize: number, queues: number, delivered: number): void {
    const { segment, offset, length: bytes } = position;
    this.index.set(id, { segment, offset, bytes, bodySize, queues, delivered });
    this.count(segment, bytes, this.lists.get(queues).length);
  }

  private untrack(id: number): void {
    const row = this.index.read(id);
    if (!row) return;
    this.count(row.segment, -row.bytes, -this.lists.get(row.queues).length);
    this.index.remove(id);
  }

  /** A live message's record now lives elsewhere (compaction moved it, or a failed move went back). */
  private move(id: number, to: RecordPosition): void {
    const row = this.index.read(id) as LiveRow;
    const references = this.lists.get(row.queues).length;
    this.count(row.segment, -row.bytes, -references);
    this.index.set(id, { ...row, segment: to.segment, offset: to.offset, bytes: to.length });
    this.count(to.segment, to.length, references);
  }

  private flushPending(): void {
    if (this.pendingSettles.size === 0 && this.pendingDelivered.size === 0) return;
    // Delivered first: a message delivered and settled in the same turn reads right either way.
    const delivered = this.pendingDelivered;
    this.pendingDelivered = new Map();
    for (const [queueId, ids] of delivered) this.wal.append(MessageRecord.Delivered, packDefinition({ q: queueId, ids }));
    const settles = this.pendingSettles;
    this.pendingSettles = new Map();
    for (const [queueId, ids] of settles) {
      this.wal.append(MessageRecord.Settle, packDefinition({ q: queueId, ids }));
      for (const id of ids) this.release(id, queueId);
    }
    if (settles.size > 0) void this.maintain();
  }

  private release(id: number, queueId: string): void {
    const row = this.index.read(id);
    if (!row) return;
    const { segment, bytes } = row;
    const outcome = this.index.dropQueue(id, queueId);
    if (outcome === "not-held") return;
    // One reference fewer on its segment; its bytes stop counting once no queue is left.
    this.count(segment, outcome === "gone" ? -bytes : 0, -1);
    if (outcome === "gone") this.events.onGone?.(id);
  }

  /** Deletes settled segments from the oldest end, and compacts the oldest when the log is bloated. */
  private async maintain(): Promise<void> {
    if (this.maintaining || this.closing) return;
    this.maintaining = true;
    try {
      for (;;) {
        const oldest = this.wal.segments()[0];
        if (!oldest?.sealed) return;
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
    const found: ReturnType<typeof decodeMessageRecord>[] = [];
    await this.wal.readSegment(segment, ({ type, payload }) => {
      if (type === MessageRecord.Message) found.push(decodeMessageRecord(payload));
    });
    // Synchronously from here to the appends: the queue lists copied are exactly the live ones, so no
    // SETTLE can slip in between reading a list and writing the copy.
    const moved: { id: number; from: RecordPosition }[] = [];
    const deliveredBy = new Map<string, number[]>();
    for (const { header, rawProperties, body } of found) {
      const row = this.index.read(header.id);
      if (!row || row.segment !== segment) continue;
      const from: RecordPosition = { segment: row.segment, offset: row.offset, length: row.bytes };
      const queues = [...this.lists.get(row.queues)];
      for (const queueId of this.lists.get(row.delivered)) {
        const ids = deliveredBy.get(queueId) ?? [];
        ids.push(header.id);
        deliveredBy.set(queueId, ids);
      }
      const position = this.wal.append(MessageRecord.Message, encodeMessageRecord({ ...header, queues }, rawProperties, body));
      this.move(header.id, position);
      moved.push({ id: header.id, from });
    }
    // The copy starts with no delivered marker (replay resets it): the markers follow it.
    for (const [queueId, ids] of deliveredBy) this.wal.append(MessageRecord.Delivered, packDefinition({ q: queueId, ids }));
    try {
      await this.wal.commit();
    } catch (error) {
      // The copies do not exist: the originals stay live where they were.
      for (const { id, from } of moved) if (this.index.has(id)) this.move(id, from);
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

