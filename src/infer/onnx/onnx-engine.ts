import os from 'node:os';

import * as ort from 'onnxruntime-node';

import { normalizeBatch } from '../../preprocess/normalize';
import { EdgePotholeError } from '../../util/errors';
import { stageLogger } from '../../util/logger';
import { loadBackbone, type BackboneIdentity, type LoadedBackbone } from '../backbone';
import type { EngineOptions, InferenceEngine } from '../engine';
import { assertFrameSizes } from '../frame-check';
import type { SoftmaxHead } from '../head';
import { initTensorflow, tf } from '../tf-backend';
import { prepareGraph, type GraphCacheOptions, type PreparedGraph } from './graph-cache';
import { FEATURES_NAME, INPUT_NAME, SCORES_NAME } from './graph-export';
import { CALIBRATION_DIR, calibrationPhotosPresent } from './quantize/calibration-photos';
import { int8Identity } from './quantize/int8-identity';
import { checkGraphWeights, type GraphWeights } from './weight-storage';

/**
 * ONNX Runtime engine: the backbone exported to an ONNX graph (cached on disk) and run on
 * the CPU execution provider: 40-70 ms per frame on two cores, 70-110 ms on one, against
 * about 500 ms for tfjs-wasm. TensorFlow.js is still loaded: it reads the weights for the
 * export and is the reference the export is checked against.
 *
 * Known shortcoming: the tfjs copy of the weights (about 90 MB) stays in memory for the
 * life of the engine, because setHead may have to export a new graph. It could be released
 * once the session is open and the backbone reloaded only when a head change misses the
 * cache.
 */

/**
 * The default graph: int8 arithmetic. On the roads test split the shipped head classifies as
 * well with it as with float32, for 2.6 times less CPU per frame and a quarter of the file;
 * float32 cannot reach the 20 frames/s pipeline target on two cores. It is calibrated on the
 * repository's sample photos; without them the default falls back to float32.
 * docs/performance.md has the figures; `bench --weights` measures them again.
 */
export const DEFAULT_GRAPH_WEIGHTS: GraphWeights = 'int8';

/** The graph asked for, or the default; int8 by default only where it can be calibrated. */
function chooseGraphWeights(asked: GraphWeights | undefined): GraphWeights {
  if (asked !== undefined) return checkGraphWeights(asked);
  if (DEFAULT_GRAPH_WEIGHTS !== 'int8' || calibrationPhotosPresent()) return DEFAULT_GRAPH_WEIGHTS;

  stageLogger('infer').warn({ dir: CALIBRATION_DIR, using: 'float32' },
    'no calibration photos for the int8 graph, using float32');

  return 'float32';
}

/** What `OnnxEngine.graph` reports about the graph in use. */
export type GraphInfo = Omit<PreparedGraph, 'session'>;

function checkThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new EdgePotholeError(
      'EP_CONFIG_INVALID',
      `threads must be a positive integer, received ${JSON.stringify(threads)}`,
    );
  }

  return threads;
}

/**
 * Session options for the CPU execution provider. Intra-op threads split each operator of one
 * frame; `spinning` says whether they busy-wait between operators (see EngineOptions).
 */
export function cpuSessionOptions(
  threads: number,
  spinning: boolean,
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    // One frame batch at a time: parallelism across operators only adds contention.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // The Node binding takes these session config entries as strings only.
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

export class OnnxEngine implements InferenceEngine {
  readonly engine = 'onnxruntime' as const;
  /** The ONNX Runtime execution provider. */
  readonly backend = 'cpu';
  /** One session runs one batch at a time; its threads work on that batch together. */
  readonly workers = 1;
  private session: ort.InferenceSession | undefined;
  private head: SoftmaxHead | undefined;
  private info: GraphInfo;
  /** Runs, head swaps and dispose one after another, so no run sees a released session. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly threads: number,
    private readonly loaded: LoadedBackbone,
    private readonly ownsBackbone: boolean,
    private readonly cache: GraphCacheOptions,
    head: SoftmaxHead | undefined,
    graph: PreparedGraph,
  ) {
    this.head = head;
    this.session = graph.session;
    this.info = {
      file: graph.file,
      fromCache: graph.fromCache,
      check: graph.check,
      quantisation: graph.quantisation,
    };
  }

  /** Initialises TensorFlow.js, loads the backbone, then opens (or builds) the graph. */
  static async create(options: EngineOptions = {}): Promise<OnnxEngine> {
    await initTensorflow(options.tfBackend ?? 'auto');
    const loaded = await loadBackbone(options.layer);

    try {
      return await OnnxEngine.build(loaded, true, options);
    } catch (err) {
      loaded.fullModel.dispose();
      throw err;
    }
  }

  /**
   * An engine on a backbone the caller already loaded (e.g. shared with retraining); the
   * caller keeps ownership of it and `options.layer` is ignored.
   */
  static async fromBackbone(
    loaded: LoadedBackbone,
    options: EngineOptions = {},
  ): Promise<OnnxEngine> {
    return OnnxEngine.build(loaded, false, options);
  }

  private static async build(
    loaded: LoadedBackbone,
    ownsBackbone: boolean,
    options: EngineOptions,
  ): Promise<OnnxEngine> {
    const threads = checkThreads(options.threads ?? os.availableParallelism());
    const cache: GraphCacheOptions = {
      cacheDir: options.cacheDir,
      weights: chooseGraphWeights(options.graphWeights),
      sessionOptions: cpuSessionOptions(threads, options.spinning ?? false),
    };
    const graph = await prepareGraph(loaded, options.head, cache);

    return new OnnxEngine(threads, loaded, ownsBackbone, cache, options.head, graph);
  }

  /** The backbone as this graph computes it: int8 graphs have their own fingerprint. */
  get backbone(): BackboneIdentity {
    return this.graphWeights === 'int8' ? int8Identity(this.loaded.identity) : this.loaded.identity;
  }

  /** The graph's weights and arithmetic: float32, uint8, float16 or int8. */
  get graphWeights(): GraphWeights {
    return this.cache.weights ?? 'float32';
  }

  /** Where the graph in use came from: its file, whether it was cached, the build check. */
  get graph(): GraphInfo {
    return this.info;
  }

  async features(frames: Uint8Array[]): Promise<Float32Array[]> {
    return this.run(frames, FEATURES_NAME);
  }

  async scores(frames: Uint8Array[]): Promise<Float32Array[]> {
    if (!this.head) throw new Error('no model head loaded: scores() needs a retrained model');

    return this.run(frames, SCORES_NAME);
  }

  /** Opens the graph with `head` baked in (cached or built), then swaps it in. */
  async setHead(head: SoftmaxHead): Promise<void> {
    const graph = await prepareGraph(this.loaded, head, this.cache);

    await this.serial(async () => {
      const old = this.session;
      if (!old) {
        await graph.session.release();
        throw new Error('the ONNX engine was disposed; create a new engine');
      }
      this.session = graph.session;
      this.head = head;
      this.info = {
      file: graph.file,
      fromCache: graph.fromCache,
      check: graph.check,
      quantisation: graph.quantisation,
    };
      await old.release();
    });
  }

  /**
   * tfjs tensors alive in this process: the backbone the engine keeps for exports. No tfjs
   * operation runs per frame, so the count stays put; the bench shows that it does.
   */
  async liveTensors(): Promise<number> {
    return tf.memory().numTensors;
  }

  async dispose(): Promise<void> {
    await this.serial(async () => {
      const session = this.session;
      if (!session) return;

      this.session = undefined;
      await session.release();
      // Disposing the full model frees every layer's weights, the feature model's included.
      if (this.ownsBackbone) this.loaded.fullModel.dispose();
    });
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const result = this.queue.then(job);
    this.queue = result.catch(() => undefined);

    return result;
  }

  private async run(frames: Uint8Array[], output: string): Promise<Float32Array[]> {
    if (frames.length === 0) return [];

    const size = this.loaded.identity.inputSize;
    assertFrameSizes(frames, size);
    const input = new ort.Tensor('float32', normalizeBatch(frames), [frames.length, size, size, 3]);

    return this.serial(async () => {
      if (!this.session) throw new Error('the ONNX engine was disposed; create a new engine');

      const result = await this.session.run({ [INPUT_NAME]: input }, [output]);
      const flat = result[output].data as Float32Array;
      const length = flat.length / frames.length;

      return frames.map((_, i) => flat.slice(i * length, (i + 1) * length));
    });
  }
}
