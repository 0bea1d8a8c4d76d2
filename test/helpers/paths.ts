import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** 12 + 12 CC BY 4.0 road photos shipped in the repository. */
export const SAMPLES_DIR = path.join(REPO_ROOT, 'samples');

/** The shipped pothole model. */
export const SHIPPED_MODEL_DIR = path.join(REPO_ROOT, 'models', 'pothole');

/** The larger data set beside the checkout; absent on a fresh clone elsewhere. */
export const SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const SHARED_ROADS_DIR = path.join(SHARED_DIR, 'roads');
export const SHARED_VIDEO = path.join(SHARED_DIR, 'video', 'pothole.mp4');

/**
 * For `test(name, { skip: needsShared() }, ...)`: a visible skip reason when ../shared
 * is not there, false when it is.
 */
export function needsShared(what: string = SHARED_ROADS_DIR): string | false {
  return existsSync(what) ? false : `needs ${what} (not part of the repository)`;
}
