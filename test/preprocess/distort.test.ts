import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';

import sharp from 'sharp';

import {
  applyDistortion,
  drawDistortion,
  hasDistortions,
  NO_DISTORTIONS,
  sourceSize,
  type Distortion,
  type DistortionSettings,
  type RgbImage,
} from '../../src/preprocess/distort';
import { prepareImageFile } from '../../src/preprocess/image';
import { SeededRandom } from '../../src/util/random';
import { SAMPLES_DIR } from '../helpers/paths';

const PHOTO = path.join(SAMPLES_DIR, 'pothole', '103_jpg.rf.a3956b83d026cdb1cf9523ad6a8b3e32.jpg');
const SIZE = 299;
const ALL: DistortionSettings = {
  flipLeftRight: true, randomCrop: 10, randomScale: 10, randomBrightness: 10,
};

let source299: RgbImage;
let source361: RgbImage;

async function decoded(side: number): Promise<RgbImage> {
  const { pixels } = await prepareImageFile(PHOTO, { size: side });

  return { width: side, height: side, pixels };
}

before(async () => {
  source299 = await decoded(SIZE);
  source361 = await decoded(sourceSize(ALL, SIZE));
});

const identity: Distortion = { precropSize: SIZE, left: 0, top: 0, flip: false, brightness: 1 };

function pixel(image: Uint8Array, side: number, x: number, y: number): number[] {
  const at = (y * side + x) * 3;

  return [image[at], image[at + 1], image[at + 2]];
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);

  return sum / a.length;
}

test('sees a distortion when any of the four flags is set, none when all are off', () => {
  assert.equal(hasDistortions(NO_DISTORTIONS), false);
  assert.equal(hasDistortions({ ...NO_DISTORTIONS, flipLeftRight: true }), true);
  assert.equal(hasDistortions({ ...NO_DISTORTIONS, randomCrop: 5 }), true);
  assert.equal(hasDistortions({ ...NO_DISTORTIONS, randomScale: 5 }), true);
  assert.equal(hasDistortions({ ...NO_DISTORTIONS, randomBrightness: 5 }), true);
});

test('decodes the source at the largest precrop: 299 x 1.1 x 1.1 = 361 pixels', () => {
  assert.equal(sourceSize(NO_DISTORTIONS, SIZE), 299);
  assert.equal(sourceSize(ALL, SIZE), 361);
  assert.equal(sourceSize({ ...NO_DISTORTIONS, randomCrop: 50 }, SIZE), 448);
});

test('returns the photo byte for byte when the draw changes nothing', () => {
  const out = applyDistortion(source299, identity, SIZE);

  assert.deepEqual(out, source299.pixels);
});

test('draws the identity for every photo when no distortion is asked for', () => {
  const random = new SeededRandom(3);
  for (let i = 0; i < 50; i++) {
    assert.deepEqual(drawDistortion(NO_DISTORTIONS, SIZE, random), identity);
  }
});

test('mirrors the photo left to right when the draw flips', () => {
  const out = applyDistortion(source299, { ...identity, flip: true }, SIZE);

  for (const [x, y] of [[0, 0], [10, 200], [298, 37], [150, 298]]) {
    assert.deepEqual(pixel(out, SIZE, x, y), pixel(source299.pixels, SIZE, SIZE - 1 - x, y));
  }
});

test('cuts the window at the drawn place out of a precrop as large as the source', () => {
  const draw: Distortion = { precropSize: 361, left: 40, top: 17, flip: false, brightness: 1 };

  const out = applyDistortion(source361, draw, SIZE);

  for (const [x, y] of [[0, 0], [298, 298], [120, 5]]) {
    assert.deepEqual(pixel(out, SIZE, x, y), pixel(source361.pixels, 361, x + 40, y + 17));
  }
});

test('resamples a smaller precrop like sharp resizing the photo to that size', async () => {
  const draw: Distortion = { precropSize: 330, left: 12, top: 20, flip: false, brightness: 1 };
  const { pixels } = await prepareImageFile(PHOTO, { size: 330 });
  const raw = { width: 330, height: 330, channels: 3 } as const;
  const expected = await sharp(Buffer.from(pixels), { raw })
    .extract({ left: 12, top: 20, width: SIZE, height: SIZE })
    .raw()
    .toBuffer();

  const out = applyDistortion(source361, draw, SIZE);

  // Bilinear from 361 against sharp's Lanczos from the photo: the same picture, a few levels
  // apart at edges. A window shifted by one pixel differs by far more (checked below).
  const diff = meanAbsDiff(out, expected);
  assert.ok(diff < 4, `mean difference ${diff}`);
  const shifted = applyDistortion(source361, { ...draw, left: 14 }, SIZE);
  assert.ok(meanAbsDiff(shifted, expected) > diff * 2, 'a two-pixel shift is visible');
});

test('multiplies by the brightness, rounding, and clips at 255 instead of wrapping', () => {
  const grey: RgbImage = { width: 2, height: 2, pixels: new Uint8Array(12).fill(200) };
  const draw = (brightness: number): Distortion =>
    ({ precropSize: 2, left: 0, top: 0, flip: false, brightness });

  assert.deepEqual([...applyDistortion(grey, draw(0.9), 2)], new Array(12).fill(180));
  assert.deepEqual([...applyDistortion(grey, draw(1.5), 2)], new Array(12).fill(255));
  assert.deepEqual([...applyDistortion(grey, draw(0), 2)], new Array(12).fill(0));
});

test('draws the same distortions from the same seed and others from another seed', () => {
  const draws = (seed: number) => {
    const random = new SeededRandom(seed);

    return Array.from({ length: 20 }, () => drawDistortion(ALL, SIZE, random));
  };

  assert.deepEqual(draws(7), draws(7));
  assert.notDeepEqual(draws(7), draws(8));
});

test('keeps every draw within the percentages: window inside, brightness within 10%', () => {
  const random = new SeededRandom(1);
  const draws = Array.from({ length: 4000 }, () => drawDistortion(ALL, SIZE, random));

  for (const d of draws) {
    assert.ok(d.precropSize >= Math.floor(SIZE * 1.1) && d.precropSize <= 361, `${d.precropSize}`);
    assert.ok(d.left >= 0 && d.left + SIZE <= d.precropSize, `left ${d.left}`);
    assert.ok(d.top >= 0 && d.top + SIZE <= d.precropSize, `top ${d.top}`);
    assert.ok(d.brightness >= 0.9 && d.brightness <= 1.1, `brightness ${d.brightness}`);
  }
  const flips = draws.filter((d) => d.flip).length / draws.length;
  assert.ok(Math.abs(flips - 0.5) < 0.03, `flipped ${flips}`);
  assert.ok(draws.some((d) => d.brightness < 0.92) && draws.some((d) => d.brightness > 1.08));
});

test('never flips without --flip_left_right, and the other draws stay the same', () => {
  const noFlip = { ...ALL, flipLeftRight: false };
  const a = new SeededRandom(5);
  const b = new SeededRandom(5);

  for (let i = 0; i < 200; i++) {
    const withFlip = drawDistortion(ALL, SIZE, a);
    const without = drawDistortion(noFlip, SIZE, b);
    assert.equal(without.flip, false);
    assert.deepEqual({ ...without, flip: withFlip.flip }, withFlip);
  }
});
