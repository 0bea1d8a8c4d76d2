import { normalizeBatch } from '../preprocess/normalize';
import { loadBackbone, type LoadedBackbone } from './backbone';
import type { EngineOptions, InferenceEngine } from './engine';
import { applyHead, type SoftmaxHead } from './head';
import { initTensorflow, tf } from './tf-backend';

/**
 * TensorFlow.js engine: the fallback where ONNX Runtime does not load, and the reference the
 * ONNX export is checked against. About 0.4-0.6 s per frame on wasm, one thread.
 */
export class TfjsEngine implements InferenceEngine {
  readonly engine = 'tfjs' as const;
  readonly threads = 1;
  private head: SoftmaxHead | undefined;

  private constructor(
    readonly backend: string,
    private readonly loaded: LoadedBackbone,
    head: SoftmaxHead | undefined,
  ) {
    this.head = head;
  }

  static async create(options: EngineOptions = {}): Promise<TfjsEngine> {
    const backend = await initTensorflow(options.tfBackend ?? 'auto');
    const loaded = await loadBackbone(options.layer);

    return new TfjsEngine(backend, loaded, options.head);
  }

  get backbone() {
    return this.loaded.identity;
  }

  async features(frames: Uint8Array[]): Promise<Float32Array[]> {
    if (frames.length === 0) return [];

    const size = this.loaded.identity.inputSize;
    const input = tf.tensor4d(normalizeBatch(frames), [frames.length, size, size, 3]);
    const output = this.loaded.featureModel.predict(input) as tf.Tensor;
    try {
      const flat = (await output.data()) as Float32Array;
      const length = this.loaded.identity.featureLength;

      return frames.map((_, i) => flat.slice(i * length, (i + 1) * length));
    } finally {
      input.dispose();
      output.dispose();
    }
  }

  async scores(frames: Uint8Array[]): Promise<Float32Array[]> {
    const head = this.head;
    if (!head) throw new Error('no model head loaded: scores() needs a retrained model');

    return (await this.features(frames)).map((features) => applyHead(head, features));
  }

  async setHead(head: SoftmaxHead): Promise<void> {
    this.head = head;
  }

  async dispose(): Promise<void> {
    // The feature model shares its layers with the full model; disposing the full model frees
    // every weight once (disposing both would throw "already disposed").
    this.loaded.fullModel.dispose();
  }
}
