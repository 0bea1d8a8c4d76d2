import { EdgePotholeError } from '../../util/errors';
import type { EngineOptions, InferenceEngine } from '../engine';
import { assertFrameSizes } from '../frame-check';
import { scoresFromFeatures, type SoftmaxHead } from '../head';
import { WorkerPool } from './worker-pool';

/** Throws EP_CONFIG_INVALID unless `workers` is a whole number of worker threads. */
export function checkWorkers(workers: number): number {
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new EdgePotholeError(
      'EP_CONFIG_INVALID',
      `workers must be an integer from 1 to 64, received ${JSON.stringify(workers)}; ` +
        'use the number of cores, or 1 for no worker threads',
    );
  }

  return workers;
}

/**
 * TensorFlow.js on wasm in worker threads. tfjs runs wasm on one thread in Node, so one frame
 * takes about 0.4 s however many cores there are; here each worker holds its own backbone and
 * works on its own frames, so N workers run N frames at once. Batches are split across the
 * workers; single-frame callers get the speed-up only by keeping `workers` frames in flight.
 * The head is applied in the calling thread: it is a 2048 x classes product.
 */
export class TfjsPoolEngine implements InferenceEngine {
  readonly engine = 'tfjs' as const;
  readonly threads = 1;
  private head: SoftmaxHead | undefined;

  private constructor(private readonly pool: WorkerPool, head: SoftmaxHead | undefined) {
    this.head = head;
  }

  /** Starts `workers` threads (each loads the backbone once, about 3 s). */
  static async create(options: EngineOptions, workers: number): Promise<TfjsPoolEngine> {
    const pool = await WorkerPool.start(checkWorkers(workers), {
      layer: options.layer,
      tfBackend: options.tfBackend ?? 'wasm',
    });

    return new TfjsPoolEngine(pool, options.head);
  }

  get backend(): string {
    return this.pool.backend;
  }

  get workers(): number {
    return this.pool.size;
  }

  get backbone() {
    return this.pool.identity;
  }

  async features(frames: Uint8Array[]): Promise<Float32Array[]> {
    if (frames.length === 0) return [];
    assertFrameSizes(frames, this.pool.identity.inputSize);

    return this.pool.features(frames);
  }

  async scores(frames: Uint8Array[]): Promise<Float32Array[]> {
    const head = this.head;

    return scoresFromFeatures(head, await this.features(frames));
  }

  async setHead(head: SoftmaxHead): Promise<void> {
    this.head = head;
  }

  liveTensors(): Promise<number> {
    return this.pool.liveTensors();
  }

  dispose(): Promise<void> {
    return this.pool.close();
  }
}
