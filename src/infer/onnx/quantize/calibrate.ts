import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

import { normalizeBatch } from '../../../preprocess/normalize';
import { FEATURES_NAME, INPUT_NAME } from '../graph-export';
import { encodeModel } from '../proto';
import type { Range } from './insert-qdq';

/**
 * Measures the range of every activation to be quantised by running the float graph on real
 * photos, with those activations added as outputs. The range is the smallest and largest
 * value seen: with ReLU networks and a few dozen road photos this keeps the features within
 * about one percent (docs/performance.md has the figures).
 */

export interface Calibration {
  ranges: Map<string, Range>;
  /** The float graph's features for each frame, the reference for the int8 check. */
  features: Float32Array[];
}

function withOutputs(model: onnx.IModelProto, values: string[]): Uint8Array {
  const graph = model.graph as onnx.IGraphProto;
  const original = graph.output ?? [];
  const extra = values.map((name) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } },
  }));
  graph.output = [...original, ...extra];
  try {
    return encodeModel(model);
  } finally {
    graph.output = original;
  }
}

function widen(ranges: Map<string, Range>, value: string, data: Float32Array): void {
  let { min, max } = ranges.get(value) ?? { min: Infinity, max: -Infinity };
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  ranges.set(value, { min, max });
}

/** Ranges of `values` over `frames` (RGB bytes, `size` x `size`), one frame at a time. */
export async function calibrate(
  model: onnx.IModelProto,
  values: string[],
  frames: Uint8Array[],
  size: number,
): Promise<Calibration> {
  const session = await ort.InferenceSession.create(withOutputs(model, values), {
    graphOptimizationLevel: 'all',
  });
  const ranges = new Map<string, Range>();
  const features: Float32Array[] = [];
  try {
    for (const frame of frames) {
      const input = new ort.Tensor('float32', normalizeBatch([frame]), [1, size, size, 3]);
      const result = await session.run({ [INPUT_NAME]: input }, [...values, FEATURES_NAME]);
      for (const value of values) widen(ranges, value, result[value].data as Float32Array);
      features.push(result[FEATURES_NAME].data as Float32Array);
    }
  } finally {
    await session.release();
  }

  return { ranges, features };
}
