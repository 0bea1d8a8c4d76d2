import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  int8PerChannel, uint8Quantisation,
} from '../../../../src/infer/onnx/quantize/insert-qdq';

test('quantises a ReLU range to uint8 with zero at code 0', () => {
  const { scale, zeroPoint } = uint8Quantisation({ min: 0, max: 2.55 });

  assert.equal(zeroPoint, 0);
  assert.ok(Math.abs(scale - 0.01) < 1e-12);
});

test('quantises the [-1, 1] input range with zero at code 128', () => {
  const { scale, zeroPoint } = uint8Quantisation({ min: -1, max: 1 });

  assert.equal(zeroPoint, 128);
  assert.ok(Math.abs(scale - 2 / 255) < 1e-12);
});

test('widens a range that leaves out zero, so zero stays exact', () => {
  const { scale, zeroPoint } = uint8Quantisation({ min: 0.5, max: 2.55 });

  assert.equal(zeroPoint, 0);
  assert.ok(Math.abs(scale - 0.01) < 1e-12);
});

test('codes weights per output channel, the largest magnitude of each at 127', () => {
  const weights = Float32Array.of(0.5, -1, 0.25, 0, 0.02, -0.015);
  const { scales, codes } = int8PerChannel(weights, 2);

  assert.deepEqual([...codes], [64, -127, 32, 0, 127, -95]);
  assert.ok(Math.abs(scales[0] - 1 / 127) < 1e-9);
  assert.ok(Math.abs(scales[1] - 0.02 / 127) < 1e-9);
});
