import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { graphFileName, prepareGraph } from '../../../../src/infer/onnx/graph-cache';
import { buildOnnxModel } from '../../../../src/infer/onnx/graph-export';
import { quantiseModel } from '../../../../src/infer/onnx/quantize/quantise';
import { initTensorflow } from '../../../../src/infer/tf-backend';
import { SeededRandom } from '../../../../src/util/random';
import { TINY_SIZE, tinyBackbone } from '../tiny-backbone';

let root: string;

/** Deterministic RGB frames standing in for photos of the tiny network's size. */
function frames(count: number, seed: number): Uint8Array[] {
  const random = new SeededRandom(seed);

  return Array.from({ length: count }, () =>
    Uint8Array.from({ length: TINY_SIZE * TINY_SIZE * 3 }, () => random.int(256)));
}

before(async () => {
  await initTensorflow();
  root = await mkdtemp(path.join(os.tmpdir(), 'ep-quantise-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('quantises every convolution and keeps the features pointing the same way', async () => {
  const loaded = tinyBackbone({ seed: 9 });
  const model = buildOnnxModel(loaded);
  loaded.fullModel.dispose();

  const { bytes, check } = await quantiseModel(model, frames(8, 1), TINY_SIZE);
  const ops = (model.graph?.node ?? []).map((node) => node.opType);

  assert.ok(bytes.length > 0);
  assert.equal(check.convolutions, 4, 'stem, wide, even and down read quantised activations');
  assert.ok(ops.includes('QuantizeLinear') && ops.includes('DequantizeLinear'));
  assert.ok(check.minCosine > 0.98, `cosine ${check.minCosine}`);
});

test('refuses an int8 graph whose features stray further than asked, naming the fix', async () => {
  const loaded = tinyBackbone({ seed: 9 });
  const model = buildOnnxModel(loaded);
  loaded.fullModel.dispose();

  await assert.rejects(quantiseModel(model, frames(2, 2), TINY_SIZE, 1.5), {
    code: 'EP_EXPORT_MISMATCH',
    message: new RegExp('^the int8 graph\'s features differ from the float graph\'s on the ' +
      'calibration photos \\(cosine similarity \\d\\.\\d{4}, below 1\\.5\\); ' +
      'use graph weights "float32" or "uint8"$'),
  });
});

test('caches the int8 graph under its own name, after checking the float export', async () => {
  const loaded = tinyBackbone({ seed: 10 });
  const cacheDir = path.join(root, 'cache');
  const calibrationFrames = async () => frames(4, 3);
  const options = { cacheDir, weights: 'int8' as const, calibrationFrames };

  const built = await prepareGraph(loaded, undefined, options);
  await built.session.release();
  const cached = await prepareGraph(loaded, undefined, options);
  await cached.session.release();
  loaded.fullModel.dispose();

  assert.equal(built.file, path.join(cacheDir, graphFileName(loaded.identity, undefined, 'int8')));
  assert.match(path.basename(built.file as string), /-x\d+i8\.onnx$/);
  assert.ok((built.check?.maxAbsDiff ?? 1) < 1e-5, 'the float export matched tfjs');
  assert.ok((built.quantisation?.minCosine ?? 0) > 0.98);
  assert.equal(cached.fromCache, true);
});
