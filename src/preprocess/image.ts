import { readFile } from 'node:fs/promises';

import sharp from 'sharp';

import { EdgePotholeError } from '../util/errors';

/** A frame ready for the network: `size` x `size` RGB, 8 bits per channel, row-major. */
export interface ModelInput {
  pixels: Uint8Array;
  size: number;
}

/**
 * A crop box in relative coordinates (0..1) of the source frame; the default is the whole
 * frame. Forward-facing cameras see the road in the lower part of the image.
 */
export interface RegionOfInterest {
  left: number;
  top: number;
  width: number;
  height: number;
}

export const WHOLE_FRAME: RegionOfInterest = Object.freeze({
  left: 0,
  top: 0,
  width: 1,
  height: 1,
});

/** The region of interest cut into `columns` x `rows` equal tiles, each one network input. */
export interface TileGrid {
  columns: number;
  rows: number;
}

export const SINGLE_TILE: TileGrid = Object.freeze({ columns: 1, rows: 1 });

export interface PrepareOptions {
  /** Side of the square network input in pixels; default 299. */
  size?: number;
  /** Default: the whole frame. */
  roi?: RegionOfInterest;
  /** Default: one tile. */
  tiles?: TileGrid;
}

function unreadable(name: string, reason: string, cause?: unknown): EdgePotholeError {
  return new EdgePotholeError(
    'EP_IMAGE_UNREADABLE',
    `cannot read image ${name}: ${reason} (expected a JPEG, PNG, WebP, GIF, TIFF or AVIF file)`,
    { cause },
  );
}

/** Throws EP_CONFIG_INVALID naming the field when the box is not inside the frame. */
export function validateRoi(roi: RegionOfInterest): void {
  const problems: string[] = [];
  for (const field of ['left', 'top', 'width', 'height'] as const) {
    const value = roi[field];
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      problems.push(`${field} must be a number from 0 to 1, got ${JSON.stringify(value)}`);
    }
  }
  if (problems.length === 0 && (roi.width === 0 || roi.height === 0)) {
    problems.push('width and height must be greater than 0');
  }
  if (
    problems.length === 0 &&
    (roi.left + roi.width > 1 + 1e-9 || roi.top + roi.height > 1 + 1e-9)
  ) {
    problems.push(
      `left + width and top + height must be <= 1, got ${roi.left + roi.width} and ` +
        `${roi.top + roi.height}`,
    );
  }
  if (problems.length > 0) {
    throw new EdgePotholeError('EP_CONFIG_INVALID', `preprocess.roi: ${problems.join('; ')}`);
  }
}

/** Pixel boxes of the tiles of `roi` in a `width` x `height` frame, row by row. */
export function tileBoxes(
  roi: RegionOfInterest,
  tiles: TileGrid,
  width: number,
  height: number,
): sharp.Region[] {
  const boxes: sharp.Region[] = [];
  const x0 = roi.left * width;
  const y0 = roi.top * height;
  const tileWidth = (roi.width * width) / tiles.columns;
  const tileHeight = (roi.height * height) / tiles.rows;
  for (let row = 0; row < tiles.rows; row++) {
    for (let column = 0; column < tiles.columns; column++) {
      const left = Math.min(width - 1, Math.round(x0 + column * tileWidth));
      const top = Math.min(height - 1, Math.round(y0 + row * tileHeight));
      const right = Math.min(width, Math.round(x0 + (column + 1) * tileWidth));
      const bottom = Math.min(height, Math.round(y0 + (row + 1) * tileHeight));
      boxes.push({
        left,
        top,
        width: Math.max(1, right - left),
        height: Math.max(1, bottom - top),
      });
    }
  }

  return boxes;
}

function validateTiles(tiles: TileGrid): void {
  for (const field of ['columns', 'rows'] as const) {
    if (!Number.isInteger(tiles[field]) || tiles[field] < 1 || tiles[field] > 8) {
      throw new EdgePotholeError(
        'EP_CONFIG_INVALID',
        `preprocess.tiles.${field} must be a whole number from 1 to 8, ` +
          `got ${JSON.stringify(tiles[field])}`,
      );
    }
  }
}

async function toModelInput(image: sharp.Sharp, size: number): Promise<ModelInput> {
  const { data: pixels, info } = await image
    .resize(size, size, { fit: 'fill' })
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || pixels.length !== size * size * 3) {
    throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, not RGB`);
  }

  return { pixels: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length), size };
}

/**
 * Like prepareImage, for a region of interest cut into tiles: the frame is decoded once, then
 * each tile is cut from the upright 8-bit RGB pixels and stretched to `size` x `size`. A
 * pothole far ahead is a few pixels when a whole 1920x1080 frame is squeezed to 299x299; a tile
 * of the road keeps it visible. Returns the tiles row by row.
 */
export async function prepareTiles(
  data: Buffer,
  name: string,
  options: PrepareOptions = {},
): Promise<ModelInput[]> {
  const size = options.size ?? 299;
  const roi = options.roi ?? WHOLE_FRAME;
  const tiles = options.tiles ?? SINGLE_TILE;

  if (roi !== WHOLE_FRAME) validateRoi(roi);
  if (tiles !== SINGLE_TILE) validateTiles(tiles);
  if (data.length === 0) throw unreadable(name, 'the file is empty (0 bytes)');

  try {
    // failOn 'error' rejects truncated and corrupt data instead of returning grey pixels.
    const decoded = sharp(data, { failOn: 'error' })
      .rotate()
      .flatten({ background: '#000000' })
      .toColourspace('srgb');
    if (roi === WHOLE_FRAME && tiles.columns * tiles.rows === 1)
      return [await toModelInput(decoded, size)];

    // Raw pixels between decode and crop avoid a lossy re-encode; boxes are in upright pixels.
    const upright = await decoded.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const { width, height, channels } = upright.info;

    return await Promise.all(
      tileBoxes(roi, tiles, width, height).map((box) =>
        toModelInput(sharp(upright.data, { raw: { width, height, channels } }).extract(box), size),
      ),
    );
  } catch (err) {
    throw unreadable(name, (err as Error).message, err);
  }
}

/**
 * Decodes any image sharp reads (the format is decided by content, not by the file name) and
 * turns it into the network input: EXIF orientation applied, alpha flattened onto black,
 * grey / CMYK / 16-bit converted to 8-bit sRGB, the region of interest cut out, then stretched
 * to `size` x `size` (fit `fill`, as retrain.py does: no letterbox, no crop).
 *
 * Throws EP_IMAGE_UNREADABLE naming `name` for empty, truncated or non-image input.
 */
export async function prepareImage(
  data: Buffer,
  name: string,
  options: PrepareOptions = {},
): Promise<ModelInput> {
  const [input] = await prepareTiles(data, name, { ...options, tiles: SINGLE_TILE });

  return input;
}

/** Reads and prepares an image file; errors name the path. */
export async function prepareImageFile(
  file: string,
  options?: PrepareOptions,
): Promise<ModelInput> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder'
      : code ?? String(err);
    throw unreadable(file, reason, err);
  }

  return prepareImage(data, file, options);
}
