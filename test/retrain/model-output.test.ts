import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { SoftmaxHead } from '../../src/infer/head';
import { loadModelDir, type ModelMetadata } from '../../src/infer/model-dir';
import {
  checkFinalTensorName,
  writeLabelsFile,
  writeModelDir,
} from '../../src/retrain/model-output';
import { EdgePotholeError } from '../../src/util/errors';

const HEAD: SoftmaxHead = {
  featureLength: 4,
  classes: 2,
  kernel: Float32Array.from([0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.4, -0.4]),
  bias: Float32Array.from([0.05, -0.05]),
};

const METADATA: ModelMetadata = {
  format: 'edge-pothole-model/1',
  labels: ['normal', 'pothole'],
  input: { size: 299, normalization: '[-1,1]', resize: 'fill' },
  backbone: { name: 'test', package: 'none', layer: 'x', pooling: 'global-average',
    inputSize: 299, normalization: '[-1,1]', featureLength: 4, fingerprint: '0'.repeat(64) },
  created_at: '2026-01-01T00:00:00.000Z',
};

let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-model-output-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function layerNames(dir: string): Promise<string[]> {
  const text = await readFile(path.join(dir, 'model.json'), 'utf8');

  const names = [...text.matchAll(/"name":"([^"]+)"/g)].map((m) => m[1]);

  return names.filter((name) => !name.startsWith('sequential'));
}

test('names the output layer final_result by default, as retrain.py does', async () => {
  const dir = path.join(tmp, 'default');

  await writeModelDir(dir, HEAD, METADATA, {});

  assert.deepEqual(await layerNames(dir),
    ['final_result', 'final_result/kernel', 'final_result/bias']);
});

test('names the output layer and its weights after --final_tensor_name, still loading',
  async () => {
    const dir = path.join(tmp, 'named');

    await writeModelDir(dir, HEAD, METADATA, { 'notes.txt': 'hello\n' }, 'pothole/probabilities');

    assert.deepEqual(await layerNames(dir),
      ['pothole/probabilities', 'pothole/probabilities/kernel', 'pothole/probabilities/bias']);
    const loaded = await loadModelDir(dir);
    assert.deepEqual([...loaded.head.kernel], [...HEAD.kernel]);
    assert.deepEqual([...loaded.head.bias], [...HEAD.bias]);
    assert.equal(await readFile(path.join(dir, 'notes.txt'), 'utf8'), 'hello\n');
  });

test('replaces an existing model directory whole and leaves no staging directory', async () => {
  const dir = path.join(tmp, 'replaced');
  await writeModelDir(dir, HEAD, METADATA, { 'old.txt': 'old' }, 'first');

  await writeModelDir(dir, HEAD, { ...METADATA, labels: ['a', 'b'] }, {}, 'second');

  assert.deepEqual((await readdir(dir)).sort(),
    ['labels.txt', 'metadata.json', 'model.json', 'weights.bin']);
  assert.equal(await readFile(path.join(dir, 'labels.txt'), 'utf8'), 'a\nb\n');
  assert.deepEqual((await readdir(tmp)).filter((name) => name.includes('.tmp-')), []);
});

test('keeps the previous model when writing the new one fails', async () => {
  const dir = path.join(tmp, 'kept');
  await writeModelDir(dir, HEAD, METADATA, {}, 'kept_layer');

  await assert.rejects(writeModelDir(dir, HEAD, METADATA, { 'no/such/dir.txt': 'x' }, 'other'),
    /ENOENT/);

  assert.deepEqual((await layerNames(dir))[0], 'kept_layer');
  assert.deepEqual((await readdir(tmp)).filter((name) => name.includes('.tmp-')), []);
});

test('refuses a final tensor name TensorFlow would not accept, naming the value', () => {
  assert.throws(() => checkFinalTensorName('final result'), (err: unknown) => {
    assert.ok(err instanceof EdgePotholeError);
    assert.equal(err.code, 'EP_USAGE');
    assert.equal(err.message, '--final_tensor_name must be a TensorFlow op name (letters, ' +
      'digits, and . _ - / after the first), got "final result"');

    return true;
  });
  assert.doesNotThrow(() => checkFinalTensorName('final_result'));
});

test('writes --output_labels as one label per line, in output order', async () => {
  const file = path.join(tmp, 'labels', 'output_labels.txt');

  await writeLabelsFile(file, ['normal', 'pothole']);

  assert.equal(await readFile(file, 'utf8'), 'normal\npothole\n');
});
