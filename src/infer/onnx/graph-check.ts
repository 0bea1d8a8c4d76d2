import * as ort from 'onnxruntime-node';

import { EdgePotholeError } from '../../util/errors';
import { SeededRandom } from '../../util/random';
import type { LoadedBackbone } from '../backbone';
import { applyHead, type SoftmaxHead } from '../head';
import { tf } from '../tf-backend';
import { FEATURES_NAME, INPUT_NAME, SCORES_NAME } from './graph-export';

/**
 * The build-time proof that an exported graph computes what TensorFlow.js computes: one
 * seeded pseudo-random frame through both, compared value by value. A wrong padding or a
 * transposed kernel shows up here as differences of 0.1 and more; a faithful export differs
 * by float rounding only (about 1e-6).
 */

/** Largest |ONNX - tfjs| accepted on a feature value; default for `checkExport`. */
export const DEFAULT_TOLERANCE = 1e-3;

/** Seed of the check frame, fixed so a failing check can be reproduced. */
const CHECK_SEED = 0x9e3779b9;

export interface ExportCheck {
  /** Largest |ONNX - tfjs| over the pooled features of the check frame. */
  maxAbsDiff: number;
  /** Largest |ONNX - applyHead(tfjs)| over the scores; only with a head. */
  scoresMaxAbsDiff?: number;
}

/** A deterministic frame with values in [-1, 1), like real normalised input. */
export function seededFrame(length: number, seed = CHECK_SEED): Float32Array {
  const random = new SeededRandom(seed);

  return Float32Array.from({ length }, () => random.next() * 2 - 1);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;

  let max = 0;
  // NaN compares false with everything, so it is caught explicitly.
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (Number.isNaN(diff)) return Infinity;
    if (diff > max) max = diff;
  }

  return max;
}

function tfjsFeatures(loaded: LoadedBackbone, frame: Float32Array, size: number): Float32Array {
  return tf.tidy(() => {
    const input = tf.tensor4d(frame, [1, size, size, 3]);

    return (loaded.featureModel.predict(input) as tf.Tensor).dataSync() as Float32Array;
  });
}

/**
 * Runs `session` (an exported graph) and the tfjs feature model on the same seeded frame.
 * Throws EP_EXPORT_MISMATCH when features differ by more than `tolerance`, or the scores do
 * when `head` is given; otherwise returns the differences for the build log.
 */
export async function checkExport(
  session: ort.InferenceSession,
  loaded: LoadedBackbone,
  head: SoftmaxHead | undefined,
  tolerance = DEFAULT_TOLERANCE,
): Promise<ExportCheck> {
  const size = loaded.identity.inputSize;
  const frame = seededFrame(size * size * 3);

  const expected = tfjsFeatures(loaded, frame, size);
  const outputs = head ? [FEATURES_NAME, SCORES_NAME] : [FEATURES_NAME];
  const input = new ort.Tensor('float32', frame, [1, size, size, 3]);
  const result = await session.run({ [INPUT_NAME]: input }, outputs);
  const check: ExportCheck = {
    maxAbsDiff: maxAbsDiff(result[FEATURES_NAME].data as Float32Array, expected),
  };
  if (head) {
    const scores = result[SCORES_NAME].data as Float32Array;
    check.scoresMaxAbsDiff = maxAbsDiff(scores, applyHead(head, expected));
  }

  const worst = Math.max(check.maxAbsDiff, check.scoresMaxAbsDiff ?? 0);
  if (!(worst <= tolerance)) {
    throw new EdgePotholeError(
      'EP_EXPORT_MISMATCH',
      `the ONNX graph for backbone layer "${loaded.identity.layer}" differs from TensorFlow.js ` +
        `by up to ${worst} (tolerance ${tolerance}) on the check frame; ` +
        'use engine "tfjs" and report this as an exporter bug',
    );
  }

  return check;
}
