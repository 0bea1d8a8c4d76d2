import assert from 'node:assert/strict';
import { test } from 'node:test';

import { splitEvenly, WorkerPool } from '../../../src/infer/tfjs-pool/worker-pool';

test('splits five frames over two workers as three and two, in order', () => {
  assert.deepEqual(splitEvenly([1, 2, 3, 4, 5], 2), [[1, 2, 3], [4, 5]]);
});

test('gives one frame to one worker and leaves the other idle', () => {
  assert.deepEqual(splitEvenly(['a'], 2), [['a']]);
});

test('makes no runs of nothing', () => {
  assert.deepEqual(splitEvenly([], 4), []);
});

test('reports which worker could not load the backbone, why, and the way out', async () => {
  await assert.rejects(WorkerPool.start(1, { layer: 'mixed99', tfBackend: 'wasm' }), {
    code: 'EP_ENGINE_UNAVAILABLE',
    message: 'tfjs worker 1 of 1 did not start: backbone layer "mixed99" does not exist in ' +
      'Inception v3; use e.g. mixed8, mixed9, mixed10; ' +
      'set infer.workers to 1 to run tfjs without worker threads',
  });
});
