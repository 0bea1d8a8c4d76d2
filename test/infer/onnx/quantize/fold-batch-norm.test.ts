import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import { seededFrame } from '../../../../src/infer/onnx/graph-check';
import { buildOnnxModel } from '../../../../src/infer/onnx/graph-export';
import { encodeModel } from '../../../../src/infer/onnx/proto';
import { foldBatchNorms } from '../../../../src/infer/onnx/quantize/fold-batch-norm';
import { initTensorflow } from '../../../../src/infer/tf-backend';
import { maxAbsDiff, TINY_SIZE, tinyBackbone } from '../tiny-backbone';

async function features(bytes: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  try {
    const tensor = new ort.Tensor('float32', input, [1, TINY_SIZE, TINY_SIZE, 3]);

    return (await session.run({ input: tensor })).features.data as Float32Array;
  } finally {
    await session.release();
  }
}

before(async () => {
  await initTensorflow();
});

test('folds each batch norm after a convolution into it, features unchanged', async () => {
  const loaded = tinyBackbone({ seed: 7 });
  const model = buildOnnxModel(loaded);
  loaded.fullModel.dispose();
  const input = seededFrame(TINY_SIZE * TINY_SIZE * 3, 8);
  const before = await features(encodeModel(model), input);

  const folded = foldBatchNorms(model.graph ?? {});
  const ops = (model.graph?.node ?? []).map((node) => node.opType);

  assert.equal(folded, 2, 'stem_bn and down_bn');
  assert.ok(!ops.includes('BatchNormalization'));
  assert.ok(maxAbsDiff(await features(encodeModel(model), input), before) < 1e-5);
});
