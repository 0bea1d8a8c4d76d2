import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { describeError, EdgePotholeError } from '../util/errors';
import { writeFileAtomic } from '../util/fs-atomic';
import { stageLogger } from '../util/logger';

/**
 * The outbox's file: an append-only journal of JSON lines in `<state_dir>/outbox/`.
 * A `put` line holds one message; a `done` line says it was acknowledged (or dropped).
 * Puts are fsync'd before the outbox hands the message to MQTT; done lines ride along with
 * the next fsync, because a lost done line only costs a duplicate, which subscribers drop
 * by id. A kill -9 or a power cut can tear the last line; loading ignores it and the journal
 * is rewritten at once, so the next append never lands after half a line.
 *
 * Why a journal and not SQLite: better-sqlite3 compiles from source on this platform (no
 * prebuilt binary reaches the car without internet), and the outbox needs only append,
 * acknowledge and replay in order, which a journal does with one write and one fsync.
 */

/** One queued message, as stored. */
export interface OutboxRecord {
  /** Position in capture order, from 1, never reused in one journal. */
  seq: number;
  topic: string;
  /** The JSON payload, as published. */
  body: string;
  /** When it was queued, milliseconds since the epoch (for `outbox.max_age_seconds`). */
  createdAtMs: number;
}

type JournalLine =
  | { op: 'put'; seq: number; topic: string; body: string; at: number }
  | { op: 'done'; seq: number };

/** Rewrite the journal when this many done lines have piled up since the last rewrite. */
const COMPACT_AFTER_DONE = 5000;

const JOURNAL_FILE = 'journal.ndjson';
const LOCK_FILE = 'lock';

function putLine(record: OutboxRecord): string {
  const line: JournalLine = { op: 'put', seq: record.seq, topic: record.topic, body: record.body,
    at: record.createdAtMs };

  return `${JSON.stringify(line)}\n`;
}

/** Live records of a journal's text in seq order, and how many lines could not be read. */
export function parseJournal(text: string): { records: OutboxRecord[]; unreadable: number } {
  const live = new Map<number, OutboxRecord>();
  let unreadable = 0;

  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let line: JournalLine;
    try {
      line = JSON.parse(raw) as JournalLine;
    } catch {
      unreadable += 1;
      continue;
    }
    if (line.op === 'put') {
      const { seq, topic, body } = line;
      live.set(seq, { seq, topic, body, createdAtMs: line.at });
    } else if (line.op === 'done') {
      live.delete(line.seq);
    }
  }

  return { records: [...live.values()].sort((a, b) => a.seq - b.seq), unreadable };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);

    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dir>/lock` for this process: two daemons appending to one journal would interleave
 * their lines. A lock left by a process that no longer runs (kill -9) is taken over.
 */
function takeLock(dir: string): string {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);

      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new EdgePotholeError('EP_CONFIG_INVALID', `state_dir outbox ${dir} is in use by ` +
        `process ${holder}; give each daemon its own state_dir`);
    }
    // Left by a process that is gone: remove it and try once more.
    try {
      unlinkSync(file);
    } catch {
      // Another starter removed it first; the next attempt decides.
    }
  }

  throw new EdgePotholeError('EP_CONFIG_INVALID', `state_dir outbox ${dir}: cannot take ${file}`);
}

/** The open journal: appends are grouped, written and fsync'd by one writer at a time. */
export class OutboxJournal {
  private buffered: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing: Promise<void> | undefined;
  private doneSinceCompact = 0;

  private constructor(
    private readonly file: string,
    private readonly lockFile: string,
    private handle: FileHandle,
    private readonly live: () => OutboxRecord[],
  ) {}

  /**
   * Opens (creating) the journal in `dir`, returns it with the records still to deliver.
   * `live` must return the records not yet done, in seq order, for rewrites.
   */
  static async open(dir: string, live: () => OutboxRecord[]):
  Promise<{ journal: OutboxJournal; records: OutboxRecord[]; unreadable: number }> {
    const lockFile = await prepareDir(dir);
    const file = path.join(dir, JOURNAL_FILE);

    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const { records, unreadable } = parseJournal(text);

    // Rewritten at once: drops done lines and any torn last line before new appends.
    await writeFileAtomic(file, records.map(putLine).join(''));
    const handle = await open(file, 'a');

    return { journal: new OutboxJournal(file, lockFile, handle, live), records, unreadable };
  }

  /** Appends `record`; resolves once it is on disk (written and fsync'd). */
  append(record: OutboxRecord): Promise<void> {
    this.buffered.push(putLine(record));

    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.scheduleWrite();
    });
  }

  /** Records that `seqs` need no delivery any more; written with the next group. */
  markDone(seqs: number[]): void {
    if (seqs.length === 0) return;

    for (const seq of seqs) this.buffered.push(`${JSON.stringify({ op: 'done', seq })}\n`);
    this.doneSinceCompact += seqs.length;
    this.scheduleWrite();
  }

  /** Resolves when everything appended or marked so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Flushes, closes the file and releases the lock. */
  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
    await rm(this.lockFile, { force: true });
  }

  private scheduleWrite(): void {
    if (this.writing) return;

    this.writing = this.writeGroups().catch((err) => {
      stageLogger('publish').error({ file: this.file, err: describeError(err) },
        'outbox journal cannot be written; messages stay in memory only');
    }).finally(() => {
      this.writing = undefined;
      // Lines added after the last group was taken, while the writer was winding down.
      if (this.buffered.length > 0) this.scheduleWrite();
    });
  }

  private async writeGroups(): Promise<void> {
    while (this.buffered.length > 0) {
      const lines = this.buffered.splice(0);
      const waiters = this.waiters.splice(0);
      try {
        await this.handle.write(lines.join(''));
        await this.handle.datasync();
        waiters.forEach((w) => w.resolve());
      } catch (err) {
        waiters.forEach((w) => w.reject(err));
      }

      if (this.doneSinceCompact >= COMPACT_AFTER_DONE) await this.compact();
    }
  }

  /**
   * Rewrites the file with the live records only (temp file, fsync, rename). Lines still
   * buffered are settled by the rewrite itself: `live` already holds every record whose put
   * is buffered and none whose done is, so they are dropped and their writers told.
   */
  private async compact(): Promise<void> {
    this.doneSinceCompact = 0;
    const lines = this.buffered.splice(0);
    const waiters = this.waiters.splice(0);

    try {
      await writeFileAtomic(this.file, this.live().map(putLine).join(''));
    } catch (err) {
      // The old file is intact (write-then-rename): keep appending to it, retry later.
      this.buffered.unshift(...lines);
      this.waiters.unshift(...waiters);
      stageLogger('publish').warn({ file: this.file, err: describeError(err) },
        'outbox journal rewrite failed; appending to the old one');

      return;
    }
    // The rename replaced the file under the open handle: append to the new one.
    await this.handle.close();
    this.handle = await open(this.file, 'a');
    waiters.forEach((w) => w.resolve());
  }
}

/** Creates `dir`, checks that it is writable and takes the lock; returns the lock's path. */
async function prepareDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });

    return takeLock(dir);
  } catch (err) {
    if (err instanceof EdgePotholeError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new EdgePotholeError('EP_CONFIG_INVALID', `state_dir outbox ${dir} cannot be ` +
      `written (${code}); set state_dir to a writable directory`, { cause: err });
  }
}
