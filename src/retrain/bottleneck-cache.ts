import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { InferenceEngine } from '../infer/engine';
import { temporarySibling, writeFileAtomic } from '../util/fs-atomic';

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
    /** How the features were computed (`float32`, `int8`...); part of the directory name. */
    numerics = '',
  ) {
    const numericsSuffix = numerics ? `-${numerics}` : '';
    this.dir = path.join(rootDir, `${backboneFingerprint.slice(0, 16)}${numericsSuffix}`);
  }

  /**
   * The cache for what `engine` computes. The key adds the engine's numerics to the backbone
   * fingerprint: features from the int8 graph differ slightly from float32 ones, and a head
   * must be trained and reported on one kind, not a mix of both.
   */
  static forEngine(rootDir: string, engine: InferenceEngine): BottleneckCache {
    const numerics = (engine as { graphWeights?: string }).graphWeights ?? 'float32';

    return new BottleneckCache(rootDir, engine.backbone.fingerprint, engine.backbone.featureLength,
      numerics);
  }

  static contentHash(data: Buffer): string {
    return createHash('sha256').update(data).digest('hex');
  }

  private fileFor(contentHash: string): string {
    return path.join(this.dir, contentHash.slice(0, 2), `${contentHash}.f32`);
  }

  /** The cached vector, or undefined when absent or not of the expected size. */
  async get(contentHash: string): Promise<Float32Array | undefined> {
    return this.decode(await readFile(this.fileFor(contentHash)).catch(() => undefined));
  }

  /**
   * `get` without yielding to the event loop (an 8 KB read): for callers that must reach the
   * next step (a decode) before a blocking engine call starts.
   */
  getSync(contentHash: string): Float32Array | undefined {
    try {
      return this.decode(readFileSync(this.fileFor(contentHash)));
    } catch {
      return undefined;
    }
  }

  private decode(bytes: Buffer | undefined): Float32Array | undefined {
    if (bytes?.length !== this.featureLength * 4) return undefined;

    const vector = new Float32Array(this.featureLength);
    for (let i = 0; i < this.featureLength; i++) vector[i] = bytes.readFloatLE(i * 4);

    return vector;
  }

  async put(contentHash: string, vector: Float32Array): Promise<void> {
    await writeFileAtomic(this.fileFor(contentHash), BottleneckCache.encode(vector));
  }

  /**
   * `put` in one go on the calling thread (temp file, fsync, rename: about half a millisecond
   * on a local disk). The async version needs five trips through the event loop, which ONNX
   * Runtime blocks while it computes a batch, so its files landed several batches late and a
   * Ctrl-C lost them.
   */
  putSync(contentHash: string, vector: Float32Array): void {
    const target = this.fileFor(contentHash);
    mkdirSync(path.dirname(target), { recursive: true });

    const temp = temporarySibling(target);
    try {
      const fd = openSync(temp, 'w', 0o644);
      try {
        writeSync(fd, BottleneckCache.encode(vector));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, target);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }

  private static encode(vector: Float32Array): Buffer {
    const bytes = Buffer.alloc(vector.length * 4);
    for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i], i * 4);

    return bytes;
  }
}
