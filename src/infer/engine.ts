import type { BackboneIdentity } from './backbone';
import type { SoftmaxHead } from './head';
import type { GraphWeights } from './onnx/weight-storage';
import type { TfBackendPreference } from './tf-backend';

/** `auto` picks ONNX Runtime when it loads, else TensorFlow.js. */
export type EngineChoice = 'auto' | 'onnxruntime' | 'tfjs';

export interface EngineOptions {
  /** Default `auto`. */
  engine?: EngineChoice;
  /** Intra-op threads for ONNX Runtime; default: the number of cores. */
  threads?: number;
  /**
   * Whether ONNX Runtime's intra-op threads busy-wait for work between operators; default
   * false. Spinning saves a wake-up per operator on an idle machine but burns the core that
   * decodes the next frame, so the pipeline is faster without it (docs/performance.md).
   */
  spinning?: boolean;
  /**
   * Worker threads for the tfjs engine on the wasm backend (tfjs runs wasm single-threaded
   * in Node); the frames of a batch, and concurrent calls, are spread over them. Each worker
   * holds its own copy of the backbone: about 330 MB of memory each. Default: the number of
   * cores; 1 runs tfjs in the calling thread without workers. Ignored by ONNX Runtime.
   */
  workers?: number;
  /** TensorFlow.js backend for the tfjs engine and for loading; default `auto`. */
  tfBackend?: TfBackendPreference;
  /** Backbone layer pooled into the bottleneck; default `mixed9`. */
  layer?: string;
  /** Where exported ONNX graphs are cached; default from `defaultCacheDir()`. */
  cacheDir?: string;
  /**
   * The exported ONNX graph: `int8` (integer arithmetic, calibrated on the sample photos;
   * features within 0.2% of float, 2.6 times less CPU), `float32` (exact), or `uint8` and
   * `float16` (float arithmetic, smaller files). Default `int8`, float32 where the sample
   * photos are missing; see DEFAULT_GRAPH_WEIGHTS for why. Ignored by tfjs.
   */
  graphWeights?: GraphWeights;
  /** Head to bake into the graph so `scores` works; can be replaced with `setHead`. */
  head?: SoftmaxHead;
}

/**
 * The one seam between the pipeline and the network. Frames are `size` x `size` x 3 RGB bytes
 * (see preprocess/image.ts); normalisation happens inside the engine.
 */
export interface InferenceEngine {
  readonly engine: 'onnxruntime' | 'tfjs';
  /** What runs the maths: `cpu` (ONNX Runtime's execution provider), `wasm`, `tensorflow`... */
  readonly backend: string;
  /** Threads working on one frame: ONNX Runtime's intra-op threads, 1 for tfjs. */
  readonly threads: number;
  /**
   * Frames the engine can work on at the same time: the tfjs worker threads, else 1. A caller
   * that wants all of them busy keeps this many frames in flight (or batches that many).
   */
  readonly workers: number;
  readonly backbone: BackboneIdentity;
  /** Bottleneck features, one vector of `backbone.featureLength` values per frame. */
  features(frames: Uint8Array[]): Promise<Float32Array[]>;
  /** Class probabilities per frame; throws when no head was set. */
  scores(frames: Uint8Array[]): Promise<Float32Array[]>;
  /** Replaces the head (model reload) without reloading the backbone. */
  setHead(head: SoftmaxHead): Promise<void>;
  /**
   * TensorFlow.js tensors alive in the engine, its workers included: constant from one frame
   * to the next unless something leaks. Absent where tfjs does not run per frame.
   */
  liveTensors?(): Promise<number>;
  dispose(): Promise<void>;
}
