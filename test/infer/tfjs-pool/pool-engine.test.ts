import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { createEngine } from '../../../src/infer/create-engine';
import type { InferenceEngine } from '../../../src/infer/engine';
import { TfjsEngine } from '../../../src/infer/tfjs-engine';
import { checkWorkers } from '../../../src/infer/tfjs-pool/pool-engine';
import { prepareImageFile } from '../../../src/preprocess/image';
import { SAMPLES_DIR } from '../../helpers/paths';
import { maxAbsDiff } from '../onnx/tiny-backbone';

/** The same wasm kernels on other batch sizes round differently, by about 1e-7. */
const TOLERANCE = 1e-5;

let single: InferenceEngine;
let pool: InferenceEngine;
let photos: Uint8Array[];

before(async () => {
  // Two pothole and two normal road photos, decoded as the daemon decodes them.
  const files = ['pothole', 'normal'].flatMap((kind) => {
    const dir = path.join(SAMPLES_DIR, kind);

    return readdirSync(dir).sort().slice(0, 2).map((name) => path.join(dir, name));
  });
  photos = await Promise.all(files.map(async (file) => (await prepareImageFile(file)).pixels));
  single = await TfjsEngine.create({ tfBackend: 'wasm' });
  pool = await createEngine({ engine: 'tfjs', tfBackend: 'wasm', workers: 2 });
});

after(async () => {
  await pool.dispose();
  await single.dispose();
});

test('runs tfjs on wasm in two worker threads when two workers are asked for', () => {
  assert.deepEqual([pool.engine, pool.backend, pool.threads, pool.workers], ['tfjs', 'wasm', 1, 2]);
  assert.deepEqual(pool.backbone, single.backbone);
});

test('gives the same features as the single-thread tfjs engine on real photos', async () => {
  const expected = await single.features(photos);
  const actual = await pool.features(photos);

  assert.equal(actual.length, photos.length);
  actual.forEach((features, i) => {
    assert.equal(features.length, single.backbone.featureLength);
    assert.ok(maxAbsDiff(features, expected[i]) < TOLERANCE, `photo ${i}`);
  });
});

test('answers calls made at the same time, each with its own frames', async () => {
  const expected = await single.features(photos.slice(0, 2));
  const [first, second] = await Promise.all([
    pool.features([photos[0]]),
    pool.features([photos[1]]),
  ]);

  assert.ok(maxAbsDiff(first[0], expected[0]) < TOLERANCE);
  assert.ok(maxAbsDiff(second[0], expected[1]) < TOLERANCE);
});

test('keeps the live tensor count over frames, in workers and in the thread', async () => {
  const poolBefore = await pool.liveTensors?.();
  const singleBefore = await single.liveTensors?.();
  for (let i = 0; i < 2; i++) {
    await pool.features(photos.slice(i, i + 2));
    await single.features([photos[i]]);
  }

  assert.equal(await pool.liveTensors?.(), poolBefore);
  assert.equal(await single.liveTensors?.(), singleBefore);
  assert.ok((poolBefore ?? 0) > 0, 'the workers hold the backbone weights');
});

test('rejects a frame of the wrong size, naming the frame and the expected size', async () => {
  await assert.rejects(pool.features([photos[0], new Uint8Array(12)]), {
    message: 'frame 1 has 12 bytes, expected 268203 (299x299 RGB); ' +
      'prepare frames with preprocess/image.ts at the backbone input size',
  });
});

test('refuses a worker count that is not an integer from 1 to 64, naming the value', () => {
  assert.throws(() => checkWorkers(0), {
    code: 'EP_CONFIG_INVALID',
    message: 'workers must be an integer from 1 to 64, received 0; ' +
      'use the number of cores, or 1 for no worker threads',
  });
});

// Last, as it stops the shared pool (after() disposing it again does nothing).
test('refuses work once disposed', async () => {
  await pool.dispose();

  await assert.rejects(pool.features(photos.slice(0, 1)), {
    message: 'the tfjs worker pool was disposed; create a new engine',
  });
});
