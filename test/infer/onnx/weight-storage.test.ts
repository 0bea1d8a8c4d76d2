import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import type { LoadedBackbone } from '../../../src/infer/backbone';
import { seededFrame } from '../../../src/infer/onnx/graph-check';
import { exportBackboneToOnnx } from '../../../src/infer/onnx/graph-export';
import {
  checkGraphWeights, toFloat16Bits, type GraphWeights,
} from '../../../src/infer/onnx/weight-storage';
import { initTensorflow, tf } from '../../../src/infer/tf-backend';
import { maxAbsDiff, tfjsFeatures, TINY_SIZE, tinyBackbone } from './tiny-backbone';

const FRAMES = 2;
let input: Float32Array;

/** Moves every convolution kernel onto 256 evenly spaced levels, as nsfwjs stores them. */
function onUint8Grid(loaded: LoadedBackbone): LoadedBackbone {
  for (const layer of loaded.fullModel.layers.filter((l) => l.getClassName() === 'Conv2D')) {
    const [kernel, ...rest] = layer.getWeights();
    const values = kernel.dataSync() as Float32Array;
    const min = Math.min(...values);
    const step = (Math.max(...values) - min) / 255;
    const snapped = values.map((v) => min + Math.round((v - min) / step) * step);
    layer.setWeights([tf.tensor(snapped, kernel.shape), ...rest]);
  }

  return loaded;
}

async function onnxFeatures(loaded: LoadedBackbone, weights: GraphWeights) {
  const bytes = exportBackboneToOnnx(loaded, undefined, weights);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const tensor = new ort.Tensor('float32', input, [FRAMES, TINY_SIZE, TINY_SIZE, 3]);

    const { features } = await session.run({ input: tensor });

    return { bytes, features: features.data as Float32Array };
  } finally {
    await session.release();
  }
}

before(async () => {
  await initTensorflow();
  input = seededFrame(FRAMES * TINY_SIZE * TINY_SIZE * 3, 3);
});

test('rounds float32 to half precision bits, to nearest, with infinities and subnormals', () => {
  const values = Float32Array.of(1, -2, 0.1, 1 / 3, 65504, 1e6, 2 ** -24, 2 ** -26, 0);
  const bits = [0x3c00, 0xc000, 0x2e66, 0x3555, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x0000];

  assert.deepEqual([...toFloat16Bits(values)], bits);
});

test('stores kernels on a 256-level grid as uint8 without changing the features', async () => {
  const loaded = onUint8Grid(tinyBackbone({ seed: 4 }));
  const reference = tfjsFeatures(loaded, input, FRAMES);

  const float32 = await onnxFeatures(loaded, 'float32');
  const uint8 = await onnxFeatures(loaded, 'uint8');
  loaded.fullModel.dispose();

  assert.ok(maxAbsDiff(uint8.features, reference) < 1e-5);
  assert.ok(maxAbsDiff(uint8.features, float32.features) < 1e-5);
});

test('stores kernels as float16 within half-precision rounding of float32', async () => {
  const loaded = tinyBackbone({ seed: 5 });
  const reference = tfjsFeatures(loaded, input, FRAMES);

  const half = await onnxFeatures(loaded, 'float16');
  loaded.fullModel.dispose();

  const diff = maxAbsDiff(half.features, reference);
  assert.ok(diff > 0 && diff < 1e-2, `max difference ${diff}`);
});

test('refuses an unknown weight storage, naming the value and the choices', () => {
  assert.throws(() => checkGraphWeights('int4'), {
    code: 'EP_CONFIG_INVALID',
    message: 'graph weights must be one of float32, uint8, float16, int8, received "int4"',
  });
});
