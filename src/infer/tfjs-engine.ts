import { loadBackbone, type LoadedBackbone } from './backbone';
import type { EngineOptions, InferenceEngine } from './engine';
import { assertFrameSizes } from './frame-check';
import { scoresFromFeatures, type SoftmaxHead } from './head';
import { initTensorflow, tf } from './tf-backend';
import { tfjsFeatures } from './tfjs-features';

/**
 * TensorFlow.js engine in the calling thread: the fallback where ONNX Runtime does not load,
 * and the reference the ONNX export and the worker pool are checked against. About 0.4 s per
 * frame on wasm, one thread (tfjs turns wasm threads off in Node); see TfjsPoolEngine for
 * several frames at once.
 */
export class TfjsEngine implements InferenceEngine {
  readonly engine = 'tfjs' as const;
  readonly threads = 1;
  readonly workers = 1;
  private head: SoftmaxHead | undefined;

  private constructor(
    readonly backend: string,
    private readonly loaded: LoadedBackbone,
    private readonly ownsBackbone: boolean,
    head: SoftmaxHead | undefined,
  ) {
    this.head = head;
  }

  static async create(options: EngineOptions = {}): Promise<TfjsEngine> {
    const backend = await initTensorflow(options.tfBackend ?? 'auto');
    const loaded = await loadBackbone(options.layer);

    return new TfjsEngine(backend, loaded, true, options.head);
  }

  /**
   * An engine on a backbone the caller already loaded (the bench compares engines on one
   * copy); the caller keeps ownership of it and `options.layer` is ignored.
   */
  static async fromBackbone(
    loaded: LoadedBackbone,
    options: EngineOptions = {},
  ): Promise<TfjsEngine> {
    const backend = await initTensorflow(options.tfBackend ?? 'auto');

    return new TfjsEngine(backend, loaded, false, options.head);
  }

  get backbone() {
    return this.loaded.identity;
  }

  async features(frames: Uint8Array[]): Promise<Float32Array[]> {
    assertFrameSizes(frames, this.loaded.identity.inputSize);

    return tfjsFeatures(this.loaded, frames);
  }

  async scores(frames: Uint8Array[]): Promise<Float32Array[]> {
    const head = this.head;

    return scoresFromFeatures(head, await this.features(frames));
  }

  async setHead(head: SoftmaxHead): Promise<void> {
    this.head = head;
  }

  async liveTensors(): Promise<number> {
    return tf.memory().numTensors;
  }

  async dispose(): Promise<void> {
    // The feature model shares its layers with the full model; disposing the full model frees
    // every weight once (disposing both would throw "already disposed").
    if (this.ownsBackbone) this.loaded.fullModel.dispose();
  }
}
