import { normalizeBatch } from '../preprocess/normalize';
import type { LoadedBackbone } from './backbone';
import { tf } from './tf-backend';

/**
 * Runs the tfjs feature model on RGB frames and returns one vector per frame. Shared by the
 * in-thread engine and the worker threads, so both compute exactly the same thing. Every
 * tensor made here is released before returning, on success or failure.
 */
export async function tfjsFeatures(
  loaded: LoadedBackbone,
  frames: Uint8Array[],
): Promise<Float32Array[]> {
  if (frames.length === 0) return [];

  const size = loaded.identity.inputSize;
  const input = tf.tensor4d(normalizeBatch(frames), [frames.length, size, size, 3]);
  let output: tf.Tensor | undefined;
  try {
    output = loaded.featureModel.predict(input) as tf.Tensor;
    const flat = (await output.data()) as Float32Array;
    const length = loaded.identity.featureLength;

    return frames.map((_, i) => flat.slice(i * length, (i + 1) * length));
  } finally {
    input.dispose();
    output?.dispose();
  }
}
