import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

import type { SoftmaxHead } from '../../../src/infer/head';
import { applyHead } from '../../../src/infer/head';
import { seededFrame } from '../../../src/infer/onnx/graph-check';
import { exportBackboneToOnnx } from '../../../src/infer/onnx/graph-export';
import { initTensorflow } from '../../../src/infer/tf-backend';
import { maxAbsDiff, tfjsFeatures, TINY_SIZE, tinyBackbone } from './tiny-backbone';

const FRAME = TINY_SIZE * TINY_SIZE * 3;

function tinyHead(featureLength: number, classes = 3): SoftmaxHead {
  return {
    featureLength,
    classes,
    kernel: seededFrame(featureLength * classes, 7),
    bias: seededFrame(classes, 8),
  };
}

async function runGraph(model: Uint8Array, batch: Float32Array, n: number, outputs: string[]) {
  const session = await ort.InferenceSession.create(model);
  try {
    const input = new ort.Tensor('float32', batch, [n, TINY_SIZE, TINY_SIZE, 3]);
    const result = await session.run({ input }, outputs);

    return outputs.map((name) => result[name].data as Float32Array);
  } finally {
    await session.release();
  }
}

before(async () => {
  await initTensorflow();
});

test('exports a graph that ONNX Runtime runs to the features TensorFlow.js computes', async () => {
  const loaded = tinyBackbone();
  const batch = seededFrame(3 * FRAME, 42);

  const [features] = await runGraph(exportBackboneToOnnx(loaded), batch, 3, ['features']);

  assert.equal(features.length, 3 * loaded.identity.featureLength);
  assert.ok(maxAbsDiff(features, tfjsFeatures(loaded, batch, 3)) < 1e-5);
});

test('adds softmax scores that equal applyHead of the features when a head is given', async () => {
  const loaded = tinyBackbone();
  const head = tinyHead(loaded.identity.featureLength);
  const batch = seededFrame(2 * FRAME, 43);

  const model = exportBackboneToOnnx(loaded, head);
  const [features, scores] = await runGraph(model, batch, 2, ['features', 'scores']);

  const length = loaded.identity.featureLength;
  for (let i = 0; i < 2; i++) {
    const expected = applyHead(head, features.slice(i * length, (i + 1) * length));
    assert.ok(maxAbsDiff(scores.slice(i * 3, i * 3 + 3), expected) < 1e-6);
  }
});

test('declares an NHWC input and outputs with a symbolic batch dimension', () => {
  const loaded = tinyBackbone();
  const model = onnx.ModelProto.decode(exportBackboneToOnnx(loaded, tinyHead(6, 2)));

  const dims = (info: onnx.IValueInfoProto) =>
    info.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
  assert.deepEqual(model.graph?.input?.map(dims), [['N', TINY_SIZE, TINY_SIZE, 3]]);
  assert.deepEqual(model.graph?.output?.map((o) => o.name), ['features', 'scores']);
  assert.deepEqual(model.graph?.output?.map(dims), [['N', 6], ['N', 2]]);
});

test('exports only the layers the bottleneck layer depends on', () => {
  const loaded = tinyBackbone({ layer: 'mixed' });
  const model = onnx.ModelProto.decode(exportBackboneToOnnx(loaded));

  const exported = new Set(model.graph?.node?.map((n) => String(n.name).split('/')[0]));
  assert.ok(exported.has('mixed'));
  for (const later of ['down', 'down_bn', 'bottleneck', 'mystery', 'top_flatten']) {
    assert.ok(!exported.has(later), `${later} comes after the bottleneck and must not be exported`);
  }
});

test('names the layer and its class when the exporter has no builder for it', () => {
  const loaded = tinyBackbone({ layer: 'mystery' });

  assert.throws(() => exportBackboneToOnnx(loaded), {
    code: 'EP_ENGINE_UNAVAILABLE',
    message:
      'cannot export layer "mystery" (ZeroPadding2D) to ONNX: the exporter has no builder for ' +
      'ZeroPadding2D; use engine "tfjs" for this backbone',
  });
});

test('names the bottleneck layer when the model has no layer of that name', () => {
  const loaded = tinyBackbone();
  loaded.identity.layer = 'mixed11';

  assert.throws(() => exportBackboneToOnnx(loaded), {
    code: 'EP_BACKBONE_UNAVAILABLE',
    message:
      'backbone layer "mixed11" does not exist in the model; use e.g. mixed8, mixed9, mixed10',
  });
});

test('rejects a head that does not fit the features and lists every problem', () => {
  const loaded = tinyBackbone();
  const head: SoftmaxHead = {
    featureLength: 5,
    classes: 2,
    kernel: new Float32Array(9),
    bias: new Float32Array(3),
  };

  assert.throws(() => exportBackboneToOnnx(loaded, head), {
    code: 'EP_MODEL_INVALID',
    message:
      'the model head does not fit: featureLength is 5, the backbone gives 6; ' +
      'kernel has 9 values, expected featureLength x classes; bias has 3 values, expected 2',
  });
});
