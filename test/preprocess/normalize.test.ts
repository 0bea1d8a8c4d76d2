import assert from 'node:assert/strict';
import { test } from 'node:test';

import { normalizeBatch, normalizeSigned } from '../../src/preprocess/normalize';

test('maps 0 to -1 and 255 to 1', () => {
  assert.deepEqual([...normalizeSigned(Uint8Array.of(0, 255))], [-1, 1]);
});

test('puts the midpoint at 127.5: 127 and 128 land symmetrically around 0', () => {
  const [below, above] = normalizeSigned(Uint8Array.of(127, 128));

  assert.ok(below < 0 && above > 0);
  assert.ok(Math.abs(below + above) < 1e-6, `${below} and ${above} are not symmetric`);
  assert.ok(Math.abs(above - 1 / 255) < 1e-6);
});

test('is linear between the ends: 51 -> -0.6 and 204 -> 0.6', () => {
  const [low, high] = normalizeSigned(Uint8Array.of(51, 204));

  assert.ok(Math.abs(low - -0.6) < 1e-6);
  assert.ok(Math.abs(high - 0.6) < 1e-6);
});

test('writes into the given output array and returns it', () => {
  const out = new Float32Array(3);

  const result = normalizeSigned(Uint8Array.of(0, 255, 0), out);

  assert.equal(result, out);
  assert.deepEqual([...out], [-1, 1, -1]);
});

test('lays several frames out one after the other in a batch', () => {
  const batch = normalizeBatch([Uint8Array.of(0, 0, 0), Uint8Array.of(255, 255, 255)]);

  assert.deepEqual([...batch], [-1, -1, -1, 1, 1, 1]);
});

test('returns an empty batch for no frames', () => {
  assert.equal(normalizeBatch([]).length, 0);
});

test('rejects frames of unequal size, naming the index of the odd one', () => {
  const frames = [new Uint8Array(12), new Uint8Array(12), new Uint8Array(9)];

  assert.throws(() => normalizeBatch(frames), { message: 'frame 2 has 9 values, expected 12' });
});
