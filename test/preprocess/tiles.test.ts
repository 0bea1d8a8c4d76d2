import assert from 'node:assert/strict';
import { test } from 'node:test';

import sharp from 'sharp';

import { prepareTiles, tileBoxes, WHOLE_FRAME } from '../../src/preprocess/image';

/** A 400x200 PNG whose four quadrants are red, green, blue and white. */
async function quadrants(): Promise<Buffer> {
  const part = (r: number, g: number, b: number) =>
    sharp({
      create: { width: 200, height: 100, channels: 3, background: { r, g, b } },
    })
      .png()
      .toBuffer();
  const [red, green, blue, white] = await Promise.all([
    part(255, 0, 0),
    part(0, 255, 0),
    part(0, 0, 255),
    part(255, 255, 255),
  ]);

  return sharp({ create: { width: 400, height: 200, channels: 3, background: '#000' } })
    .composite([
      { input: red, left: 0, top: 0 },
      { input: green, left: 200, top: 0 },
      { input: blue, left: 0, top: 100 },
      { input: white, left: 200, top: 100 },
    ])
    .png()
    .toBuffer();
}

function meanColour(pixels: Uint8Array): number[] {
  const sums = [0, 0, 0];
  for (let i = 0; i < pixels.length; i++) sums[i % 3] += pixels[i];

  return sums.map((sum) => Math.round(sum / (pixels.length / 3)));
}

test('cuts the region of interest into equal tiles, row by row', () => {
  const boxes = tileBoxes(
    { left: 0, top: 0.5, width: 1, height: 0.5 },
    { columns: 3, rows: 1 },
    1920,
    1080,
  );

  assert.deepEqual(boxes, [
    { left: 0, top: 540, width: 640, height: 540 },
    { left: 640, top: 540, width: 640, height: 540 },
    { left: 1280, top: 540, width: 640, height: 540 },
  ]);
});

test('gives one input per tile, each showing its own part of the frame', async () => {
  const tiles = await prepareTiles(await quadrants(), 'quadrants.png', {
    roi: WHOLE_FRAME,
    tiles: { columns: 2, rows: 2 },
  });

  assert.equal(tiles.length, 4);
  assert.deepEqual(
    tiles.map((tile) => meanColour(tile.pixels)),
    [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [255, 255, 255],
    ],
  );
  for (const tile of tiles) assert.equal(tile.pixels.length, 299 * 299 * 3);
});

test('tiles only the region of interest: the bottom half gives blue and white', async () => {
  const tiles = await prepareTiles(await quadrants(), 'quadrants.png', {
    roi: { left: 0, top: 0.5, width: 1, height: 0.5 },
    tiles: { columns: 2, rows: 1 },
  });

  assert.deepEqual(
    tiles.map((tile) => meanColour(tile.pixels)),
    [
      [0, 0, 255],
      [255, 255, 255],
    ],
  );
});

test('rejects a tile grid that is not a whole number from 1 to 8, naming the field', async () => {
  await assert.rejects(
    prepareTiles(await quadrants(), 'quadrants.png', { tiles: { columns: 0, rows: 1 } }),
    {
      code: 'EP_CONFIG_INVALID',
      message: 'preprocess.tiles.columns must be a whole number from 1 to 8, got 0',
    },
  );
});
