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

export const WHOLE_FRAME: RegionOfInterest = Object.freeze({ left: 0, top: 0, width: 1, height: 1 });

export interface PrepareOptions {
  /** Side of the square network input in pixels; default 299. */
  size?: number;
  roi?: RegionOfInterest;
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
  if (problems.length === 0 && (roi.left + roi.width > 1 + 1e-9 || roi.top + roi.height > 1 + 1e-9)) {
    problems.push(`left + width and top + height must be <= 1, got ${roi.left + roi.width} and ` +
      `${roi.top + roi.height}`);
  }
  if (problems.length > 0) {
    throw new EdgePotholeError('EP_CONFIG_INVALID', `preprocess.roi: ${problems.join('; ')}`);
  }
}

function cropBox(roi: RegionOfInterest, width: number, height: number): sharp.Region {
  const left = Math.round(roi.left * width);
  const top = Math.round(roi.top * height);

  return {
    left,
    top,
    width: Math.max(1, Math.min(width - left, Math.round(roi.width * width))),
    height: Math.max(1, Math.min(height - top, Math.round(roi.height * height))),
  };
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
  const size = options.size ?? 299;
  const roi = options.roi ?? WHOLE_FRAME;

  if (roi !== WHOLE_FRAME) validateRoi(roi);
  if (data.length === 0) throw unreadable(name, 'the file is empty (0 bytes)');

  try {
    // failOn 'error' rejects truncated and corrupt data instead of returning grey pixels.
    let image = sharp(data, { failOn: 'error' }).rotate();
    if (roi !== WHOLE_FRAME) {
      // The crop box is relative to the upright frame, so orient first; raw pixels between the
      // two steps avoid a lossy re-encode.
      const oriented = await image.raw().toBuffer({ resolveWithObject: true });
      const { width, height, channels } = oriented.info;
      image = sharp(oriented.data, { raw: { width, height, channels } })
        .extract(cropBox(roi, width, height));
    }
    const { data: pixels, info } = await image
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });

    if (info.channels !== 3 || pixels.length !== size * size * 3) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, not RGB`);
    }

    return { pixels: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length), size };
  } catch (err) {
    throw unreadable(name, (err as Error).message, err);
  }
}

/** Reads and prepares an image file; errors name the path. */
export async function prepareImageFile(file: string, options?: PrepareOptions): Promise<ModelInput> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw unreadable(file, (err as NodeJS.ErrnoException).code ?? String(err), err);
  }

  return prepareImage(data, file, options);
}
