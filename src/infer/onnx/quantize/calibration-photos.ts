import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { prepareImageFile } from '../../../preprocess/image';
import { EdgePotholeError } from '../../../util/errors';

/**
 * The photos int8 ranges are measured on by default: the 24 road photos shipped in the
 * repository's samples/ (both classes, several sources). Real photos matter: activations
 * on noise have other ranges, and ranges too narrow for real frames clip their features.
 */
export const CALIBRATION_DIR = path.resolve(__dirname, '..', '..', '..', '..', '..', 'samples');

const PHOTO = /\.(jpe?g|png)$/i;

/** True when `dir` holds at least one photo to calibrate on. */
export function calibrationPhotosPresent(dir: string = CALIBRATION_DIR): boolean {
  try {
    return readdirSync(dir, { recursive: true }).map(String).some((name) => PHOTO.test(name));
  } catch {
    return false;
  }
}

/** Decodes every photo below `dir` to `size` x `size` RGB, in name order. */
export async function calibrationFrames(
  size: number,
  dir: string = CALIBRATION_DIR,
): Promise<Uint8Array[]> {
  // A missing folder and an empty one get the same answer: put the photos back.
  const names = (await readdir(dir, { recursive: true }).catch(() => []))
    .map(String)
    .filter((name) => PHOTO.test(name));
  if (names.length === 0) {
    throw new EdgePotholeError(
      'EP_ENGINE_UNAVAILABLE',
      `int8 graphs are calibrated on road photos in ${dir}, and none are there; ` +
        'restore the samples/ folder, or use graph weights "float32"',
    );
  }

  const frames: Uint8Array[] = [];
  for (const name of names.sort()) {
    frames.push((await prepareImageFile(path.join(dir, name), { size })).pixels);
  }

  return frames;
}
