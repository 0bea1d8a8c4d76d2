import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { BottleneckCache } from '../../src/retrain/bottleneck-cache';
import { createBottlenecks } from '../../src/retrain/bottlenecks';
import { scanDataset, type DatasetImage } from '../../src/retrain/dataset';
import { SAMPLES_DIR } from '../helpers/paths';
import { PixelEngine } from './pixel-engine';

let tmp: string;
let potholes: string[];
let normals: string[];

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-bottlenecks-'));
  potholes = (await readdir(path.join(SAMPLES_DIR, 'pothole'))).sort();
  normals = (await readdir(path.join(SAMPLES_DIR, 'normal'))).sort();
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let dirs = 0;

/** An image dir with `n` sample photos per class under the given names (default: their own). */
async function imageDir(n: number, rename: (name: string, i: number) => string = (x) => x) {
  dirs += 1;
  const root = path.join(tmp, `images-${dirs}`);
  for (const [label, names] of [['pothole', potholes], ['normal', normals]] as const) {
    await mkdir(path.join(root, label), { recursive: true });
    for (const [i, name] of names.slice(0, n).entries()) {
      await copyFile(path.join(SAMPLES_DIR, label, name), path.join(root, label, rename(name, i)));
    }
  }
  const dataset = await scanDataset(root, {
    validationPercentage: 10, testingPercentage: 10, allowSmallClasses: true,
  });

  return { root, images: dataset.images };
}

function freshCache(engine: PixelEngine): BottleneckCache {
  dirs += 1;

  return new BottleneckCache(path.join(tmp, `cache-${dirs}`), engine.backbone.fingerprint, 12);
}

const byFile = (list: Array<{ image: DatasetImage; vector: Float32Array }>) =>
  Object.fromEntries(list.map((b) => [b.image.file, [...b.vector]]));

test('computes each photo once, then reads the same vectors from the cache', async () => {
  const { images } = await imageDir(5);
  const engine = new PixelEngine();
  const cache = freshCache(engine);

  const cold = await createBottlenecks(images, engine, cache);
  const warm = await createBottlenecks(images, engine, cache);

  assert.deepEqual([cold.computed, cold.fromCache], [10, 0]);
  assert.deepEqual([warm.computed, warm.fromCache], [0, 10]);
  assert.equal(engine.frames, 10);
  assert.deepEqual(byFile(warm.bottlenecks), byFile(cold.bottlenecks));
});

test('gives a photo replaced by another under the same name the new photo\'s vector', async () => {
  const { images } = await imageDir(3);
  const engine = new PixelEngine();
  const cache = freshCache(engine);
  const before = await createBottlenecks(images, engine, cache);
  const target = images.find((image) => image.label === 'pothole') as DatasetImage;
  const other = path.join(SAMPLES_DIR, 'normal', normals[10]);
  await copyFile(other, target.file);

  const after = await createBottlenecks(images, engine, cache);

  assert.deepEqual([after.computed, after.fromCache], [1, 5]);
  const replaced = after.bottlenecks.find((b) => b.image.file === target.file);
  assert.notDeepEqual([...replaced!.vector], byFile(before.bottlenecks)[target.file]);
  const expected = await createBottlenecks([{ ...target, file: other }], new PixelEngine(),
    freshCache(engine));
  assert.deepEqual([...replaced!.vector], [...expected.bottlenecks[0].vector]);
});

test('recomputes a vector whose cache file was cut short, as a crash mid-write would leave it',
  async () => {
    const { images } = await imageDir(3);
    const engine = new PixelEngine();
    dirs += 1;
    const cacheDir = path.join(tmp, `cache-${dirs}`);
    const cache = new BottleneckCache(cacheDir, engine.backbone.fingerprint, 12);
    await createBottlenecks(images, engine, cache);
    const hash = BottleneckCache.contentHash(await readFile(images[0].file));
    const file = path.join(cacheDir, engine.backbone.fingerprint.slice(0, 16), hash.slice(0, 2),
      `${hash}.f32`);
    assert.equal((await stat(file)).size, 48);
    await writeFile(file, Buffer.alloc(20));

    const again = await createBottlenecks(images, engine, cache);

    assert.deepEqual([again.computed, again.fromCache], [1, 5]);
    assert.equal((await stat(file)).size, 48);
  });

test('skips a truncated photo and a text file, naming each, and computes the others', async () => {
  const { root, images } = await imageDir(3);
  const truncated = path.join(root, 'pothole', 'truncated.jpg');
  const text = path.join(root, 'normal', 'notes.jpg');
  const photo = await readFile(path.join(SAMPLES_DIR, 'pothole', potholes[4]));
  await writeFile(truncated, photo.subarray(0, Math.floor(photo.length / 2)));
  await writeFile(text, 'lat,lon\n');
  const extra = [truncated, text].map((file) => ({ ...images[0], file, relativePath: file }));
  const engine = new PixelEngine();

  const result = await createBottlenecks([...images, ...extra], engine, freshCache(engine));

  assert.equal(result.computed, 6);
  assert.deepEqual(result.skipped.map((s) => s.file), [truncated, text]);
  for (const { file, reason } of result.skipped) {
    assert.match(reason, new RegExp(`^cannot read image ${file.replace(/[.\\]/g, '\\$&')}: `));
  }
});

test('returns the bottlenecks in input order however many were cached before', async () => {
  const { images } = await imageDir(6);
  const engine = new PixelEngine();
  const cache = freshCache(engine);
  await createBottlenecks(images.filter((_, i) => i % 3 === 1), engine, cache);

  const result = await createBottlenecks(images, engine, cache);

  assert.equal(result.fromCache, 4);
  assert.deepEqual(result.bottlenecks.map((b) => b.image.file), images.map((i) => i.file));
});

test('sends the engine batches of 8 frames, the last one smaller', async () => {
  const { images } = await imageDir(10);
  const engine = new PixelEngine();

  await createBottlenecks(images, engine, freshCache(engine));

  assert.deepEqual(engine.calls, [8, 8, 4]);
});

test('reads and caches photos named with spaces, NFC and NFD accents and CJK', async () => {
  const names = ['pot hole 1.jpg', 'ornière é.jpg'.normalize('NFC'),
    'ornière è.jpg'.normalize('NFD'), '道路 写真.jpg'];
  const { images } = await imageDir(4, (name, i) => names[i]);
  const engine = new PixelEngine();
  const cache = freshCache(engine);

  const cold = await createBottlenecks(images, engine, cache);
  const warm = await createBottlenecks(images, engine, cache);

  assert.deepEqual(cold.skipped, []);
  assert.equal(cold.computed, 8);
  assert.equal(warm.fromCache, 8);
  const found = images.filter((i) => i.label === 'pothole').map((i) => path.basename(i.file));
  assert.deepEqual(found.sort(), [...names].sort());
  assert.deepEqual(byFile(warm.bottlenecks), byFile(cold.bottlenecks));
});

test('keeps features of different numerics apart: an int8 graph does not reuse float32 vectors',
  async () => {
    const engine = new PixelEngine();
    const root = path.join(tmp, 'numerics');
    const asFloat = BottleneckCache.forEngine(root, engine);
    const asInt8 = BottleneckCache.forEngine(root,
      Object.assign(Object.create(engine) as PixelEngine, { graphWeights: 'int8' }));
    const hash = BottleneckCache.contentHash(Buffer.from('one photo'));

    await asFloat.put(hash, new Float32Array(12).fill(0.5));
    assert.equal((await asFloat.get(hash))?.[0], 0.5);
    assert.equal(await asInt8.get(hash), undefined);
  });
