import type { BackboneIdentity } from './backbone';
import type { SoftmaxHead } from './head';
import type { TfBackendPreference } from './tf-backend';

/** `auto` picks ONNX Runtime when it loads, else TensorFlow.js. */
export type EngineChoice = 'auto' | 'onnxruntime' | 'tfjs';

export interface EngineOptions {
  /** Default `auto`. */
  engine?: EngineChoice;
  /** Intra-op threads for ONNX Runtime; default: the number of cores. */
  threads?: number;
  /** TensorFlow.js backend for the tfjs engine and for loading; default `auto`. */
  tfBackend?: TfBackendPreference;
  /** Backbone layer pooled into the bottleneck; default `mixed9`. */
  layer?: string;
  /** Where exported ONNX graphs are cached; default from `defaultCacheDir()`. */
  cacheDir?: string;
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
  readonly threads: number;
  readonly backbone: BackboneIdentity;
  /** Bottleneck features, one vector of `backbone.featureLength` values per frame. */
  features(frames: Uint8Array[]): Promise<Float32Array[]>;
  /** Class probabilities per frame; throws when no head was set. */
  scores(frames: Uint8Array[]): Promise<Float32Array[]>;
  /** Replaces the head (model reload) without reloading the backbone. */
  setHead(head: SoftmaxHead): Promise<void>;
  dispose(): Promise<void>;
}
