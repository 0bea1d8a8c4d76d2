import { createHash } from 'node:crypto';

/**
 * The retrained final layer: scores = softmax(features x kernel + bias).
 * Kept as plain arrays so every engine can use it (tfjs in JS, ONNX Runtime as Gemm+Softmax).
 */
export interface SoftmaxHead {
  featureLength: number;
  classes: number;
  /** Row-major [featureLength, classes]. */
  kernel: Float32Array;
  bias: Float32Array;
}

/** Softmax of one logit vector, stable for large logits. */
export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);

  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;

  return out;
}

/** Applies the head to one feature vector and returns the class probabilities. */
export function applyHead(head: SoftmaxHead, features: Float32Array): Float32Array {
  if (features.length !== head.featureLength) {
    throw new Error(
      `features have ${features.length} values, the head expects ${head.featureLength}`,
    );
  }

  const logits = new Float32Array(head.classes);
  for (let c = 0; c < head.classes; c++) logits[c] = head.bias[c];
  for (let f = 0; f < head.featureLength; f++) {
    const value = features[f];
    const row = f * head.classes;
    for (let c = 0; c < head.classes; c++) logits[c] += value * head.kernel[row + c];
  }

  return softmax(logits);
}

/**
 * Class probabilities for engines that compute features first and apply the head in
 * JavaScript (the tfjs engines); throws when no head was set.
 */
export function scoresFromFeatures(head: SoftmaxHead | undefined, features: Float32Array[]):
  Float32Array[] {
  if (!head) throw new Error('no model head loaded: scores() needs a retrained model');

  return features.map((vector) => applyHead(head, vector));
}

/** sha256 of the head's shape and weights: part of every cache key that bakes the head in. */
export function headHash(head: SoftmaxHead): string {
  const hash = createHash('sha256');
  hash.update(`${head.featureLength}x${head.classes};`);
  hash.update(Buffer.from(head.kernel.buffer, head.kernel.byteOffset, head.kernel.byteLength));
  hash.update(Buffer.from(head.bias.buffer, head.bias.byteOffset, head.bias.byteLength));

  return hash.digest('hex');
}
