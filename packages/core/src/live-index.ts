/**
 * The message log's index of live messages, by message id: where each record is (segment, offset,
 * length), its body size, and which queues hold it / handed it out (numbers from a QueueListTable).
 * Ids are handed out in increasing order, so they are kept in pages of consecutive ids, each page a
 * handful of typed arrays: about 24 bytes per message instead of a Map entry and an object each (a
 * million-message backlog would otherwise cost ~150 MB of heap here alone). A page is freed once none
 * of its messages is live.
 *
 * It owns the QueueListTable its rows' list numbers refer to, and the operations that change a row's
 * lists (a queue lets go, a queue hands it out), shared by replay and the running log.
 *
 * Not here: what is live (the message log decides), segment accounting, reading records.
 */
import { assert } from "./errors.js";
import { EMPTY_LIST, QueueListTable } from "./queue-list-table.js";

/** What taking a queue off a message did: it did not hold it, others still do, or none is left. */
export type DropOutcome = "not-held" | "kept" | "gone";

const PAGE_IDS = 4096;
/** Marks a slot whose message is not live. */
const ABSENT = -1;

interface Page {
  readonly segment: Int32Array;
  readonly offset: Uint32Array;
  readonly bytes: Uint32Array;
  readonly bodySize: Uint32Array;
  /** QueueListTable numbers; ABSENT in `queues` marks a free slot. */
  readonly queues: Int32Array;
  readonly delivered: Int32Array;
  live: number;
}

/** One live message's row, as read() returns it (a reused object: copy what must outlive the call). */
export interface LiveRow {
  segment: number;
  offset: number;
  bytes: number;
  bodySize: number;
  queues: number;
  delivered: number;
}

function newPage(): Page {
  const queues = new Int32Array(PAGE_IDS).fill(ABSENT);
  return {
    segment: new Int32Array(PAGE_IDS),
    offset: new Uint32Array(PAGE_IDS),
    bytes: new Uint32Array(PAGE_IDS),
    bodySize: new Uint32Array(PAGE_IDS),
    queues,
    delivered: new Int32Array(PAGE_IDS),
    live: 0,
  };
}

export class LiveIndex {
  readonly lists = new QueueListTable();
  private readonly pages = new Map<number, Page>();
  /** The page used last: consecutive ids (publishes, in-order acks) skip the Map lookup. */
  private lastNumber = -1;
  private lastPage: Page | undefined;
  private count = 0;
  private readonly row: LiveRow = { segment: 0, offset: 0, bytes: 0, bodySize: 0, queues: 0, delivered: 0 };

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    const page = this.pageOf(id);
    return page !== undefined && (page.queues[id % PAGE_IDS] as number) !== ABSENT;
  }

  /** The row of a live message, or undefined. The object is reused by the next call. */
  read(id: number): Readonly<LiveRow> | undefined {
    const page = this.pageOf(id);
    const slot = id % PAGE_IDS;
    if (page === undefined || (page.queues[slot] as number) === ABSENT) return undefined;
    const row = this.row;
    row.segment = page.segment[slot] as number;
    row.offset = page.offset[slot] as number;
    row.bytes = page.bytes[slot] as number;
    row.bodySize = page.bodySize[slot] as number;
    row.queues = page.queues[slot] as number;
    row.delivered = page.delivered[slot] as number;
    return row;
  }

  /** Adds or replaces the row of a message. */
  set(id: number, row: Readonly<LiveRow>): void {
    // Checks on the path of every publish build their message only when they fail (`if (…) assert(false,
    // …)`): a template string per call, passed or not, cost ~12 ns each.
    if (!(Number.isSafeInteger(id) && id >= 0)) assert(false, `message id ${id} cannot be indexed`);
    if (!(row.queues >= 0 && row.delivered >= 0)) assert(false, `message ${id} indexed without queue lists`);
    // Uint32 columns: a segment of 4 GiB or more would wrap silently (segment sizes are far below).
    if (!(row.offset + row.bytes <= 0xffff_ffff && row.bodySize <= 0xffff_ffff)) assert(false, `message ${id} lies past 4 GiB in its segment`);
    let page = this.pageOf(id);
    if (page === undefined) {
      page = newPage();
      this.pages.set(Math.floor(id / PAGE_IDS), page);
    }
    const slot = id % PAGE_IDS;
    if ((page.queues[slot] as number) === ABSENT) {
      page.live++;
      this.count++;
    }
    page.segment[slot] = row.segment;
    page.offset[slot] = row.offset;
    page.bytes[slot] = row.bytes;
    page.bodySize[slot] = row.bodySize;
    page.queues[slot] = row.queues;
    page.delivered[slot] = row.delivered;
  }

  setLists(id: number, queues: number, delivered: number): void {
    const page = this.pageOf(id);
    const slot = id % PAGE_IDS;
    if (!(page !== undefined && (page.queues[slot] as number) !== ABSENT)) assert(false, `message ${id} is not live`);
    page.queues[slot] = queues;
    page.delivered[slot] = delivered;
  }

  /** Takes `queueId` off the message's holders (and its delivered list); a message left with none is removed. */
  dropQueue(id: number, queueId: string): DropOutcome {
    const row = this.read(id);
    if (!row) return "not-held";
    const queues = this.lists.without(row.queues, queueId);
    if (queues === row.queues) return "not-held";
    const delivered = this.lists.without(row.delivered, queueId);
    if (queues !== EMPTY_LIST) {
      this.setLists(id, queues, delivered);
      return "kept";
    }
    this.lists.release(delivered);
    this.delete(id);
    return "gone";
  }

  /** Notes that `queueId`, a holder, handed the message out; false if it is not a holder or already had. */
  markDelivered(id: number, queueId: string): boolean {
    const row = this.read(id);
    if (!row || !this.lists.get(row.queues).includes(queueId)) return false;
    const delivered = this.lists.with(row.delivered, queueId);
    if (delivered === row.delivered) return false;
    this.setLists(id, row.queues, delivered);
    return true;
  }

  /** Removes a live message with its list references. */
  remove(id: number): void {
    const row = this.read(id);
    if (!row) return;
    this.lists.release(row.queues);
    this.lists.release(row.delivered);
    this.delete(id);
  }

  private delete(id: number): void {
    const number = Math.floor(id / PAGE_IDS);
    const page = this.pages.get(number);
    const slot = id % PAGE_IDS;
    if (page === undefined || (page.queues[slot] as number) === ABSENT) return;
    page.queues[slot] = ABSENT;
    page.live--;
    this.count--;
    if (page.live > 0) return;
    this.pages.delete(number);
    if (number === this.lastNumber) {
      this.lastNumber = -1;
      this.lastPage = undefined;
    }
  }

  private pageOf(id: number): Page | undefined {
    const number = Math.floor(id / PAGE_IDS);
    if (number === this.lastNumber) return this.lastPage;
    const page = this.pages.get(number);
    if (page !== undefined) {
      this.lastNumber = number;
      this.lastPage = page;
    }
    return page;
  }

  /** Visits the live ids in increasing order. Rows may be changed or deleted during the visit. */
  forEachId(visit: (id: number) => void): void {
    const numbers = [...this.pages.keys()].sort((a, b) => a - b);
    for (const number of numbers) {
      const page = this.pages.get(number);
      if (page === undefined) continue;
      const first = number * PAGE_IDS;
      for (let slot = 0; slot < PAGE_IDS; slot++) {
        if ((page.queues[slot] as number) !== ABSENT) visit(first + slot);
      }
    }
  }
}
