import path from 'node:path';

import { stageLogger, type Logger } from '../util/logger';
import { OutboxJournal, type OutboxRecord } from './outbox-journal';

/**
 * The durable outbox: every detection and event is queued here, on disk, before it is
 * published, and leaves only when the broker acknowledged it (PUBACK) or a bound pushed it
 * out. Survives broker outages, network changes and kill -9; see outbox-journal.ts.
 */

export interface OutboxOptions {
  /** The state directory; the journal lives in `<stateDir>/outbox/`. */
  stateDir: string;
  /** Most messages kept; when full, the oldest is dropped and counted. Default 100000. */
  maxMessages?: number;
  /** Messages older than this are dropped and counted, seconds; 0 = no limit. Default 7 days. */
  maxAgeSeconds?: number;
  /** Clock in milliseconds since the epoch; default Date.now (tests pass a fake one). */
  now?: () => number;
}

/** One queued message; `durable` turns true once its put line is fsync'd. */
export interface OutboxEntry extends OutboxRecord {
  durable: boolean;
}

const DEFAULT_MAX_MESSAGES = 100_000;
const DEFAULT_MAX_AGE_SECONDS = 7 * 24 * 3600;

/** Index of the first entry whose seq is greater than `seq` (entries are in seq order). */
function firstAfter(entries: OutboxEntry[], seq: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (entries[mid].seq <= seq) low = mid + 1;
    else high = mid;
  }

  return low;
}

export class Outbox {
  /** Live entries in seq order (capture order). */
  private entries: OutboxEntry[] = [];
  private nextSeq = 1;
  private dropped = 0;
  private journal!: OutboxJournal;
  private readonly log: Logger = stageLogger('publish');
  private readonly maxMessages: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  private constructor(options: OutboxOptions) {
    this.maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
    this.maxAgeMs = (options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS) * 1000;
    this.now = options.now ?? Date.now;
  }

  /** Opens the outbox of `stateDir`, loading what a previous run left undelivered. */
  static async open(options: OutboxOptions): Promise<Outbox> {
    const outbox = new Outbox(options);
    const dir = path.join(options.stateDir, 'outbox');
    const opened = await OutboxJournal.open(dir, () => outbox.entries);

    outbox.journal = opened.journal;
    outbox.entries = opened.records.map((r) => ({ ...r, durable: true }));
    outbox.nextSeq = (opened.records.at(-1)?.seq ?? 0) + 1;
    if (opened.unreadable > 0) {
      outbox.log.warn({ dir, unreadable: opened.unreadable }, 'outbox lines unreadable, skipped');
    }
    outbox.log.info({ dir, depth: outbox.entries.length }, 'outbox opened');
    outbox.enforceBounds();

    return outbox;
  }

  /** Messages waiting for their PUBACK (or not yet sent). */
  get depth(): number {
    return this.entries.length;
  }

  /** Messages dropped by the bounds since this process started. */
  get droppedTotal(): number {
    return this.dropped;
  }

  /**
   * Queues `payload` (serialised as JSON) for `topic` and returns its entry at once; the
   * promise `written` resolves when it is on disk. Enforces the bounds first.
   */
  add(topic: string, payload: unknown): { entry: OutboxEntry; written: Promise<void> } {
    const entry: OutboxEntry = { seq: this.nextSeq, topic, body: JSON.stringify(payload),
      createdAtMs: this.now(), durable: false };
    this.nextSeq += 1;
    this.entries.push(entry);
    this.enforceBounds();

    const written = this.journal.append(entry).then(() => {
      entry.durable = true;
    });

    return { entry, written };
  }

  /** Up to `count` entries after `seq`, in order, stopping at the first not yet durable. */
  after(seq: number, count: number): OutboxEntry[] {
    const start = firstAfter(this.entries, seq);
    const picked: OutboxEntry[] = [];
    for (let i = start; i < this.entries.length && picked.length < count; i += 1) {
      if (!this.entries[i].durable) break;
      picked.push(this.entries[i]);
    }

    return picked;
  }

  /** The broker acknowledged `seq`: forget it. Unknown seqs (already dropped) are ignored. */
  ack(seq: number): void {
    const index = firstAfter(this.entries, seq - 1);
    if (this.entries[index]?.seq !== seq) return;

    this.entries.splice(index, 1);
    this.journal.markDone([seq]);
  }

  /** Drops what is too old or too many, oldest first; returns how many went. */
  enforceBounds(): number {
    const cutoff = this.maxAgeMs > 0 ? this.now() - this.maxAgeMs : -Infinity;
    let count = Math.max(0, this.entries.length - this.maxMessages);
    while (count < this.entries.length && this.entries[count].createdAtMs < cutoff) count += 1;
    if (count === 0) return 0;

    const gone = this.entries.splice(0, count);
    this.journal.markDone(gone.map((e) => e.seq));
    // Logged on the first drop and then once per thousand; the running total is in stats.
    const before = this.dropped;
    this.dropped += count;
    if (before === 0 || Math.floor(before / 1000) !== Math.floor(this.dropped / 1000)) {
      this.log.warn({ dropped: count, droppedTotal: this.dropped, depth: this.depth },
        'outbox full or expired, oldest messages dropped');
    }

    return count;
  }

  /** Waits for pending writes, closes the journal; undelivered messages stay on disk. */
  async close(): Promise<void> {
    await this.journal.close();
  }
}
