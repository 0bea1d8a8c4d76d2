import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { writeFileAtomic } from '../util/fs-atomic';

/**
 * Bottlenecks on disk, keyed by the image's content hash and the backbone fingerprint (not by
 * path, as retrain.py does: a replaced photo must not reuse a stale vector). Binary float32,
 * little-endian, written atomically: a run stopped half-way leaves only whole files, and runs
 * can share the directory.
 */
export class BottleneckCache {
  private readonly dir: string;

  constructor(
    rootDir: string,
    backboneFingerprint: string,
    private readonly featureLength: number,
  ) {
    this.dir = path.join(rootDir, backboneFingerprint.slice(0, 16));
  }

  static contentHash(data: Buffer): string {
    return createHash('sha256').update(data).digest('hex');
  }

  private fileFor(contentHash: string): string {
    return path.join(this.dir, contentHash.slice(0, 2), `${contentHash}.f32`);
  }

  /** The cached vector, or undefined when absent or not of the expected size. */
  async get(contentHash: string): Promise<Float32Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.fileFor(contentHash));
    } catch {
      return undefined;
    }
    if (bytes.length !== this.featureLength * 4) return undefined;

    const vector = new Float32Array(this.featureLength);
    for (let i = 0; i < this.featureLength; i++) vector[i] = bytes.readFloatLE(i * 4);

    return vector;
  }

  async put(contentHash: string, vector: Float32Array): Promise<void> {
    const bytes = Buffer.alloc(vector.length * 4);
    for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i], i * 4);

    await writeFileAtomic(this.fileFor(contentHash), bytes);
  }
}
