import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import sharp from 'sharp';

import { prepareImage, prepareImageFile, type ModelInput } from '../../src/preprocess/image';
import { sniffImageFormat } from '../../src/preprocess/sniff';
import { EdgePotholeError } from '../../src/util/errors';
import { SAMPLES_DIR } from '../helpers/paths';

// Every awkward file below is derived at run time from this real 640x640 road photo.
const PHOTO = path.join(SAMPLES_DIR, 'pothole', '103_jpg.rf.a3956b83d026cdb1cf9523ad6a8b3e32.jpg');
const INPUT_BYTES = 299 * 299 * 3;
const EXPECTED_FORMATS = '(expected a JPEG, PNG, WebP, GIF, TIFF or AVIF file)';

let photo: Buffer;
let reference: ModelInput;
let tmp: string;

before(async () => {
  photo = await readFile(PHOTO);
  reference = await prepareImage(photo, PHOTO);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-image-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Mean absolute difference per byte of two equally long pixel arrays (0..255). */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);

  return sum / a.length;
}

function meanOf(pixels: Uint8Array): number {
  return pixels.reduce((sum, v) => sum + v, 0) / pixels.length;
}

// Spreading 268,203 values into Math.max overflows the stack, hence reduce.
const maxOf = (pixels: Uint8Array): number => pixels.reduce((m, v) => Math.max(m, v), 0);
const minOf = (pixels: Uint8Array): number => pixels.reduce((m, v) => Math.min(m, v), 255);

/** The error message for a file sharp rejects: our prefix and suffix around sharp's reason. */
function sharpRejection(name: string): RegExp {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  return new RegExp(`^cannot read image ${escape(name)}: .+ ${escape(EXPECTED_FORMATS)}$`);
}

async function assertUnreadable(
  promise: Promise<unknown>,
  message: string | RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof EdgePotholeError, `expected an EdgePotholeError, got ${String(err)}`);
    assert.equal(err.code, 'EP_IMAGE_UNREADABLE');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);

    return true;
  });
}

async function writeTemp(name: string, data: Buffer | string): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, data);

  return file;
}

describe('prepareImage on awkward files', () => {
  test('turns a real JPEG photo into 299x299 RGB bytes', () => {
    assert.equal(reference.size, 299);
    assert.equal(reference.pixels.length, INPUT_BYTES);
    assert.ok(
      meanOf(reference.pixels) > 10 && meanOf(reference.pixels) < 245,
      'a photo is not flat black or white',
    );
  });

  test('honours the size option', async () => {
    const input = await prepareImage(photo, PHOTO, { size: 224 });

    assert.equal(input.size, 224);
    assert.equal(input.pixels.length, 224 * 224 * 3);
  });

  test('stretches a 2:1 frame to the square without cropping or letterboxing', async () => {
    // 200x100: the left quarter black, the rest white.
    const black = await sharp({
      create: { width: 50, height: 100, channels: 3, background: '#000' },
    })
      .png()
      .toBuffer();
    const frame = await sharp({
      create: { width: 200, height: 100, channels: 3, background: '#fff' },
    })
      .composite([{ input: black, left: 0, top: 0 }])
      .png()
      .toBuffer();

    const { pixels } = await prepareImage(frame, 'wide.png');

    const at = (x: number, y: number): number => pixels[(y * 299 + x) * 3];
    assert.equal(at(10, 5), 0, 'the left edge is kept (no crop)');
    assert.equal(at(60, 150), 0, 'a quarter of the width stays black');
    assert.equal(at(90, 150), 255);
    assert.equal(at(290, 5), 255, 'no black bar at the top (no letterbox)');
  });

  test('flattens the alpha channel of a PNG onto black', async () => {
    const { data, info } = await sharp(photo)
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    // Top half fully transparent, bottom half opaque.
    for (let y = 0; y < info.height / 2; y++) {
      for (let x = 0; x < info.width; x++) data[(y * info.width + x) * 4 + 3] = 0;
    }
    const png = await sharp(data, { raw: info }).png().toBuffer();

    const input = await prepareImage(png, 'alpha.png');

    assert.equal(input.pixels.length, INPUT_BYTES);
    const topRows = input.pixels.subarray(0, 299 * 140 * 3);
    assert.equal(maxOf(topRows), 0, 'transparent pixels become black');
    const bottomRows = (from: Uint8Array): Uint8Array => from.subarray(299 * 160 * 3);
    assert.ok(
      meanAbsDiff(bottomRows(input.pixels), bottomRows(reference.pixels)) < 2,
      'opaque pixels keep their colour',
    );
  });

  test('expands a greyscale JPEG to three equal channels', async () => {
    const grey = await sharp(photo).toColourspace('b-w').jpeg().toBuffer();
    assert.equal(
      (await sharp(grey).metadata()).channels,
      1,
      'the fixture really is single-channel',
    );

    const input = await prepareImage(grey, 'grey.jpg');

    assert.equal(input.pixels.length, INPUT_BYTES);
    for (let i = 0; i < input.pixels.length; i += 3) {
      if (input.pixels[i] !== input.pixels[i + 1] || input.pixels[i] !== input.pixels[i + 2]) {
        assert.fail(`pixel ${i / 3} is not grey: ${input.pixels.subarray(i, i + 3).join(',')}`);
      }
    }
    assert.ok(Math.abs(meanOf(input.pixels) - meanOf(reference.pixels)) < 8, 'brightness is kept');
  });

  test('converts a CMYK JPEG to RGB close to the original photo', async () => {
    const cmyk = await sharp(photo).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk', 'the fixture really is CMYK');

    const input = await prepareImage(cmyk, 'cmyk.jpg');

    assert.equal(input.pixels.length, INPUT_BYTES);
    // An inverted (Adobe-style) CMYK decode would differ by ~100; the round trip costs ~10.
    assert.ok(meanAbsDiff(input.pixels, reference.pixels) < 16);
  });

  test('reduces a 16-bit PNG to 8 bits without clipping', async () => {
    const deep = await sharp(photo).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(deep).metadata()).depth, 'ushort', 'the fixture really is 16-bit');
    const eightBit = await prepareImage(await sharp(photo).png().toBuffer(), 'rgb8.png');

    const input = await prepareImage(deep, 'rgb16.png');

    assert.equal(input.pixels.length, INPUT_BYTES);
    assert.ok(meanAbsDiff(input.pixels, eightBit.pixels) < 1);
  });

  test('applies the EXIF orientation, as a physically rotated photo would look', async () => {
    // A non-square crop, so that a missing rotation also changes the aspect ratio.
    const wide = await sharp(photo)
      .extract({ left: 0, top: 0, width: 640, height: 320 })
      .png()
      .toBuffer();
    const jpeg = (image: sharp.Sharp): Promise<Buffer> => image.jpeg({ quality: 95 }).toBuffer();
    // Orientation 6: the viewer must turn the stored pixels 90 degrees clockwise.
    const tagged = await jpeg(sharp(wide).withMetadata({ orientation: 6 }));
    assert.equal((await sharp(tagged).metadata()).orientation, 6, 'the fixture carries the tag');

    const input = await prepareImage(tagged, 'tagged.jpg');

    const clockwise = await prepareImage(await jpeg(sharp(wide).rotate(90)), 'cw.jpg');
    const anticlockwise = await prepareImage(await jpeg(sharp(wide).rotate(270)), 'ccw.jpg');
    const unrotated = await prepareImage(await jpeg(sharp(wide)), 'plain.jpg');
    assert.ok(meanAbsDiff(input.pixels, clockwise.pixels) < 3, 'matches the clockwise rotation');
    assert.ok(meanAbsDiff(input.pixels, unrotated.pixels) > 8, 'differs from the stored pixels');
    assert.ok(meanAbsDiff(input.pixels, anticlockwise.pixels) > 8, 'was not turned the wrong way');
  });

  test('rejects a truncated JPEG (the first half of a real photo) naming it', async () => {
    const half = photo.subarray(0, Math.floor(photo.length / 2));

    await assertUnreadable(prepareImage(half, 'half.jpg'), sharpRejection('half.jpg'));
  });

  test('rejects an empty buffer naming it', async () => {
    await assertUnreadable(
      prepareImage(Buffer.alloc(0), 'empty.jpg'),
      `cannot read image empty.jpg: the file is empty (0 bytes) ${EXPECTED_FORMATS}`,
    );
  });
});

describe('prepareImageFile', () => {
  test('reads a PNG named .jpg by its content', async () => {
    const file = await writeTemp('really-a-png.jpg', await sharp(photo).png().toBuffer());

    const input = await prepareImageFile(file);

    assert.equal(input.pixels.length, INPUT_BYTES);
    assert.ok(meanAbsDiff(input.pixels, reference.pixels) < 1);
  });

  test('rejects a text file named .jpg with an error naming the path', async () => {
    const file = await writeTemp('notes.jpg', 'lat,lon,pothole\n52.1,4.3,yes\n');

    await assertUnreadable(prepareImageFile(file), sharpRejection(file));
  });

  test('rejects an empty file with an error naming the path', async () => {
    const file = await writeTemp('empty.jpg', Buffer.alloc(0));

    await assertUnreadable(
      prepareImageFile(file),
      `cannot read image ${file}: the file is empty (0 bytes) ${EXPECTED_FORMATS}`,
    );
  });

  test('rejects a truncated JPEG file with an error naming the path', async () => {
    const file = await writeTemp('truncated.jpg', photo.subarray(0, Math.floor(photo.length / 2)));

    await assertUnreadable(prepareImageFile(file), sharpRejection(file));
  });

  test('rejects a nonexistent path saying there is no such file, and the path', async () => {
    const file = path.join(tmp, 'no-such-photo.jpg');

    await assertUnreadable(
      prepareImageFile(file),
      `cannot read image ${file}: no such file ${EXPECTED_FORMATS}`,
    );
  });

  test('rejects a directory saying it is a folder, and the path', async () => {
    await assertUnreadable(
      prepareImageFile(tmp),
      `cannot read image ${tmp}: it is a folder ${EXPECTED_FORMATS}`,
    );
  });
});

describe('prepareImage with a region of interest', () => {
  /** 200x100: the top half white, the bottom half black. */
  async function whiteOverBlack(): Promise<Buffer> {
    const black = await sharp({
      create: { width: 200, height: 50, channels: 3, background: '#000' },
    })
      .png()
      .toBuffer();

    return sharp({ create: { width: 200, height: 100, channels: 3, background: '#fff' } })
      .composite([{ input: black, top: 50, left: 0 }])
      .png()
      .toBuffer();
  }
  const BOTTOM_HALF = { left: 0, top: 0.5, width: 1, height: 0.5 };

  test('keeps only the bottom half when the ROI is the bottom half', async () => {
    const input = await prepareImage(await whiteOverBlack(), 'split.png', { roi: BOTTOM_HALF });

    assert.equal(input.pixels.length, INPUT_BYTES);
    assert.equal(maxOf(input.pixels), 0, 'every pixel is black');
  });

  test('keeps only the top half when the ROI is the top half', async () => {
    const roi = { left: 0, top: 0, width: 1, height: 0.5 };

    const input = await prepareImage(await whiteOverBlack(), 'split.png', { roi });

    assert.equal(minOf(input.pixels), 255, 'every pixel is white');
  });

  test('cuts the ROI after applying the EXIF orientation', async () => {
    // Orientation 3 turns the frame upside down: the black half is then on top.
    const upsideDown = await sharp(await whiteOverBlack())
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 3 })
      .toBuffer();

    const input = await prepareImage(upsideDown, 'upside-down.jpg', { roi: BOTTOM_HALF });

    assert.ok(
      meanOf(input.pixels) > 250,
      `the displayed bottom half is white, mean ${meanOf(input.pixels)}`,
    );
  });
});

describe('sniffImageFormat', () => {
  const encodings: Array<[string, (image: sharp.Sharp) => sharp.Sharp]> = [
    ['jpeg', (image) => image.jpeg()],
    ['png', (image) => image.png()],
    ['gif', (image) => image.gif()],
    ['webp', (image) => image.webp()],
    ['tiff', (image) => image.tiff()],
    ['heif', (image) => image.avif()],
  ];
  for (const [format, encode] of encodings) {
    const name = format === 'heif' ? 'AVIF as heif' : format;
    test(`recognises ${name} from the first 16 bytes`, async () => {
      const data = await encode(sharp(photo).resize(64, 64)).toBuffer();

      assert.equal(sniffImageFormat(data.subarray(0, 16)), format);
    });
  }

  test('recognises a big-endian TIFF header', () => {
    assert.equal(sniffImageFormat(Buffer.from('4d4d002a00000008', 'hex')), 'tiff');
  });

  test('returns undefined for text, an empty buffer and a truncated signature', () => {
    assert.equal(sniffImageFormat(Buffer.from('lat,lon,pothole\n')), undefined);
    assert.equal(sniffImageFormat(Buffer.alloc(0)), undefined);
    assert.equal(sniffImageFormat(photo.subarray(0, 2)), undefined);
  });
});

test('rejects a region of interest outside the frame, naming the field and the value', async () => {
  const data = await readFile(
    path.join(SAMPLES_DIR, 'normal', readdirSync(path.join(SAMPLES_DIR, 'normal'))[0]),
  );

  await assert.rejects(
    prepareImage(data, 'frame.jpg', { roi: { left: 0.5, top: 0, width: 0.8, height: 1 } }),
    {
      code: 'EP_CONFIG_INVALID',
      message: 'preprocess.roi: left + width and top + height must be <= 1, got 1.3 and 1',
    },
  );
  await assert.rejects(
    prepareImage(data, 'frame.jpg', { roi: { left: -1, top: 0, width: 1, height: 1 } }),
    {
      code: 'EP_CONFIG_INVALID',
      message: 'preprocess.roi: left must be a number from 0 to 1, got -1',
    },
  );
});
