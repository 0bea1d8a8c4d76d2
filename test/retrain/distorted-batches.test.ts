import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { NO_DISTORTIONS, type DistortionSettings } from '../../src/preprocess/distort';
import { prepareImageFile } from '../../src/preprocess/image';
import { scanDataset, type DatasetImage } from '../../src/retrain/dataset';
import { DistortedBatches } from '../../src/retrain/distorted-batches';
import { SeededRandom } from '../../src/util/random';
import { needsShared, SAMPLES_DIR, SHARED_ROADS_DIR } from '../helpers/paths';
import { PixelEngine, quadrantMeans } from './pixel-engine';

const FLIP: DistortionSettings = { ...NO_DISTORTIONS, flipLeftRight: true };
const ALL: DistortionSettings = {
  flipLeftRight: true, randomCrop: 10, randomScale: 10, randomBrightness: 20,
};

let tmp: string;
let images: DatasetImage[];

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-distorted-'));
  for (const label of ['pothole', 'normal']) {
    await mkdir(path.join(tmp, label));
    for (const name of (await readdir(path.join(SAMPLES_DIR, label))).sort().slice(0, 4)) {
      await copyFile(path.join(SAMPLES_DIR, label, name), path.join(tmp, label, name));
    }
  }
  images = (await scanDataset(tmp, {
    validationPercentage: 0, testingPercentage: 0, allowSmallClasses: true,
  })).images;
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function batchesOf(settings: DistortionSettings, memoryBytes?: number, size = 299) {
  const engine = new PixelEngine(size);
  const made = await DistortedBatches.create(images, engine, { settings, seed: 9, memoryBytes });

  return { engine, ...made };
}

/** The quadrant features with left and right quadrants swapped: what a mirror image gives. */
function mirrored(features: Float32Array): number[] {
  const order = [1, 0, 3, 2];

  return order.flatMap((q) => [...features.subarray(q * 3, q * 3 + 3)]);
}

test('runs every example of a step through the engine, in batches of 8', async () => {
  const { engine, batches } = await batchesOf(ALL);
  const random = new SeededRandom(1);

  const batch = await batches.next(20, random);

  assert.deepEqual(engine.calls, [8, 8, 4]);
  assert.equal(batch.vectors.length, 20);
  assert.ok(batch.labels.every((label) => label === 0 || label === 1));
  assert.equal(batches.stats.frames, 20);
});

test('gives each flipped example the mirror of its photo, the others the photo', async () => {
  // An even side, so the mirror image swaps whole quadrants (299 has a middle column).
  const { batches } = await batchesOf(FLIP, undefined, 300);
  const plain = await Promise.all(images.map(async (image) =>
    [...quadrantMeans((await prepareImageFile(image.file, { size: 300 })).pixels, 300)]));

  const batch = await batches.next(40, new SeededRandom(2));

  let flipped = 0;
  for (const vector of batch.vectors) {
    const index = plain.findIndex((p) => p.every((v, i) => Math.abs(v - vector[i]) < 1e-6));
    const mirrorIndex = plain.findIndex((p) =>
      mirrored(Float32Array.from(p)).every((v, i) => Math.abs(v - vector[i]) < 1e-6));
    assert.ok(index >= 0 || mirrorIndex >= 0, 'every vector is a photo or its mirror image');
    if (index < 0) flipped += 1;
  }
  assert.ok(flipped > 8 && flipped < 32, `${flipped} of 40 flipped`);
});

test('repeats the same examples for the same seeds, whatever the memory budget', async () => {
  const kept = await batchesOf(ALL);
  const decodedEachTime = await batchesOf(ALL, 0);

  const a = await kept.batches.next(12, new SeededRandom(3));
  const b = await decodedEachTime.batches.next(12, new SeededRandom(3));

  assert.deepEqual(a.labels, b.labels);
  assert.deepEqual(a.vectors.map((v) => [...v]), b.vectors.map((v) => [...v]));
  const c = await kept.batches.next(12, new SeededRandom(3));
  assert.notDeepEqual(c.vectors.map((v) => [...v]), a.vectors.map((v) => [...v]),
    'the next step draws new distortions');
});

test('drops a photo that cannot be decoded, naming it, and trains on the others', async () => {
  const broken = path.join(tmp, 'pothole', 'zz-broken.jpg');
  const photo = await readFile(images[0].file);
  await writeFile(broken, photo.subarray(0, 3000));
  const withBroken = [...images,
    { ...images[0], file: broken, relativePath: 'pothole/zz-broken.jpg' }];

  const made = await DistortedBatches.create(withBroken, new PixelEngine(),
    { settings: FLIP, seed: 1 });
  await rm(broken);

  assert.equal(made.batches.imageCount, images.length);
  assert.deepEqual(made.skipped.map((s) => s.file), [broken]);
  assert.match(made.skipped[0].reason, /^cannot read image .*zz-broken\.jpg: /);
});

test('distorts the shared roads photos of every size and shape into 299 x 299 frames',
  { skip: needsShared() }, async () => {
    const roads = await scanDataset(SHARED_ROADS_DIR, { validationPercentage: 10,
      testingPercentage: 10 });
    // Every 25th photo: 30 of them, 640 x 640 squares and wide web photos up to 1300 pixels.
    const picked = roads.images.filter((_, i) => i % 25 === 0);
    const engine = new PixelEngine();

    const made = await DistortedBatches.create(picked, engine, { settings: ALL, seed: 2 });
    const batch = await made.batches.next(40, new SeededRandom(4));

    assert.deepEqual(made.skipped, []);
    assert.equal(made.batches.imageCount, picked.length);
    assert.equal(batch.vectors.length, 40);
    assert.deepEqual([...new Set(batch.labels)].sort(), [0, 1], 'both classes drawn');
    assert.ok(batch.vectors.every((v) => v.every((x) => x >= -1 && x <= 1)));
  });
