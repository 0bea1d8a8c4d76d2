import type { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

import { normalizeBatch } from '../../../preprocess/normalize';
import { EdgePotholeError } from '../../../util/errors';
import { FEATURES_NAME, INPUT_NAME } from '../graph-export';
import { encodeModel } from '../proto';
import { calibrate } from './calibrate';
import { foldBatchNorms } from './fold-batch-norm';
import { activationsToQuantise, insertQdq } from './insert-qdq';

/**
 * Float graph -> int8 graph: fold batch norms, measure activation ranges on real photos,
 * insert Q/DQ pairs and int8 weights, then check the int8 features against the float ones
 * on the same photos. ONNX Runtime runs the result with integer convolutions.
 */

/** Lowest accepted cosine similarity between int8 and float features of a photo. */
export const DEFAULT_MIN_COSINE = 0.98;

export interface QuantisationCheck {
  /** Photos the ranges were measured on and the check ran on. */
  frames: number;
  /** Lowest cosine similarity of int8 and float features over those photos. */
  minCosine: number;
  /** Largest |int8 - float| feature difference. */
  maxAbsDiff: number;
  activations: number;
  convolutions: number;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));

  return max;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }

  return aa > 0 && bb > 0 ? dot / Math.sqrt(aa * bb) : 0;
}

async function int8Features(session: ort.InferenceSession, frames: Uint8Array[], size: number) {
  const features: Float32Array[] = [];
  for (const frame of frames) {
    const input = new ort.Tensor('float32', normalizeBatch([frame]), [1, size, size, 3]);
    const result = await session.run({ [INPUT_NAME]: input }, [FEATURES_NAME]);
    features.push(result[FEATURES_NAME].data as Float32Array);
  }

  return features;
}

/**
 * Quantises `model` (a float graph from buildOnnxModel; changed in place) with ranges
 * measured on `frames`, and returns the serialised int8 graph and its check. Throws
 * EP_EXPORT_MISMATCH when a photo's int8 features point elsewhere than its float features
 * (cosine similarity below `minCosine`).
 */
export async function quantiseModel(
  model: onnx.IModelProto,
  frames: Uint8Array[],
  size: number,
  minCosine = DEFAULT_MIN_COSINE,
): Promise<{ bytes: Uint8Array; check: QuantisationCheck }> {
  const graph = model.graph as onnx.IGraphProto;
  foldBatchNorms(graph);
  const calibration = await calibrate(model, activationsToQuantise(graph), frames, size);
  const counts = insertQdq(graph, calibration.ranges);
  const bytes = encodeModel(model);

  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const actual = await int8Features(session, frames, size).finally(() => session.release());
  const expected = calibration.features;
  const check: QuantisationCheck = {
    frames: frames.length,
    minCosine: Math.min(...actual.map((f, i) => cosine(f, expected[i]))),
    maxAbsDiff: Math.max(...actual.map((f, i) => maxAbsDiff(f, expected[i]))),
    ...counts,
  };
  if (!(check.minCosine >= minCosine)) {
    throw new EdgePotholeError(
      'EP_EXPORT_MISMATCH',
      `the int8 graph's features differ from the float graph's on the calibration photos ` +
        `(cosine similarity ${check.minCosine.toFixed(4)}, below ${minCosine}); ` +
        'use graph weights "float32" or "uint8"',
    );
  }

  return { bytes, check };
}
