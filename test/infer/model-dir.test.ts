import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { loadModelDir } from '../../src/infer/model-dir';
import { SHIPPED_MODEL_DIR } from '../helpers/paths';

let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-model-dir-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function copyOfShippedModel(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  await cp(SHIPPED_MODEL_DIR, dir, { recursive: true });

  return dir;
}

test('loads the shipped model with one label per output and finite weights', async () => {
  const model = await loadModelDir(SHIPPED_MODEL_DIR);

  assert.deepEqual(model.labels, ['normal', 'pothole']);
  assert.equal(model.head.classes, 2);
  assert.equal(model.head.featureLength, model.metadata.backbone.featureLength);
  assert.ok([...model.head.kernel].every(Number.isFinite));
  assert.match(model.ref.sha256, /^[0-9a-f]{64}$/);
});

test('refuses a weights.bin of the right size full of NaN, naming the file', async () => {
  const dir = await copyOfShippedModel('nan');
  const weights = path.join(dir, 'weights.bin');
  const bytes = Buffer.alloc((await stat(weights)).size);
  for (let i = 0; i < bytes.length; i += 4) bytes.writeFloatLE(Number.NaN, i);
  await writeFile(weights, bytes);

  await assert.rejects(loadModelDir(dir), {
    code: 'EP_MODEL_INVALID',
    message: `model directory ${dir}: weights.bin contains NaN or infinite weights (corrupt ` +
      'file); retrain it with "edge-pothole retrain"',
  });
});
