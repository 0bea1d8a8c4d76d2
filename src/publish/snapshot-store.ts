import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import sharp from 'sharp';

import { sniffImageFormat } from '../preprocess/sniff';
import { writeFileAtomic } from '../util/fs-atomic';
import { stageLogger } from '../util/logger';

/**
 * JPEG snapshots of events' peak frames in `<state_dir>/snapshots/<event_id>.jpg`, so that
 * a road authority can check a reported pothole. Bounded by count and bytes: the oldest
 * are removed first. The event message names the path; the file stays on the vehicle.
 */

export interface SnapshotLimits {
  /** Snapshots kept at most; >= 1 (0 means the store is not created at all). */
  maxCount: number;
  /** Bytes all snapshots may use together. */
  maxBytes: number;
}

interface Kept {
  file: string;
  bytes: number;
}

export class SnapshotStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly dir: string, private readonly limits: SnapshotLimits,
    private readonly kept: Kept[]) {}

  /** Opens `<stateDir>/snapshots`, counting what earlier runs left, oldest first. */
  static async open(stateDir: string, limits: SnapshotLimits): Promise<SnapshotStore> {
    const dir = path.join(stateDir, 'snapshots');
    const names = await readdir(dir).catch(() => [] as string[]);
    const found: Array<Kept & { mtimeMs: number }> = [];
    for (const name of names.filter((n) => n.endsWith('.jpg'))) {
      const info = await stat(path.join(dir, name));
      found.push({ file: path.join(dir, name), bytes: info.size, mtimeMs: info.mtimeMs });
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);

    return new SnapshotStore(dir, limits, found.map(({ file, bytes }) => ({ file, bytes })));
  }

  /** Where the snapshot of `eventId` is (or will be) written. */
  pathFor(eventId: string): string {
    return path.join(this.dir, `${eventId}.jpg`);
  }

  /**
   * Writes `frame` (any format sharp reads) as the JPEG of `eventId`, then applies the
   * limits. Writes run one after another, so the limits see every file.
   */
  save(eventId: string, frame: Buffer): Promise<void> {
    const saved = this.writing.then(() => this.write(eventId, frame));
    this.writing = saved.catch(() => undefined);

    return saved;
  }

  /** Resolves when every save so far has finished (the daemon waits for it on stop). */
  flush(): Promise<void> {
    return this.writing;
  }

  private async write(eventId: string, frame: Buffer): Promise<void> {
    const jpeg = sniffImageFormat(frame) === 'jpeg' ? frame : await sharp(frame).jpeg().toBuffer();
    const file = this.pathFor(eventId);
    await writeFileAtomic(file, jpeg);
    this.kept.push({ file, bytes: jpeg.length });

    await this.enforceLimits();
  }

  private async enforceLimits(): Promise<void> {
    let bytes = this.kept.reduce((sum, k) => sum + k.bytes, 0);
    while (this.kept.length > 0 &&
      (this.kept.length > this.limits.maxCount || bytes > this.limits.maxBytes)) {
      const oldest = this.kept.shift() as Kept;
      bytes -= oldest.bytes;
      await rm(oldest.file, { force: true });
      stageLogger('publish').debug({ file: oldest.file }, 'snapshot removed (limit)');
    }
  }
}
