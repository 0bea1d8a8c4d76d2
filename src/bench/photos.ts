import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { prepareImageFile } from '../preprocess/image';
import { EdgePotholeError } from '../util/errors';

/** The repository root (this file runs from dist/src/bench). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** 12 + 12 road photos shipped with the repository: always there. */
export const SAMPLES_DIR = path.join(REPO_ROOT, 'samples');

/** The larger labelled set beside the checkout, when present (748 photos, two classes). */
export const SHARED_ROADS_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'roads');

/** The shipped model, whose head the pipeline applies. */
export const SHIPPED_MODEL_DIR = path.join(REPO_ROOT, 'models', 'pothole');

const IMAGE_NAME = /\.(jpe?g|png|webp)$/i;

/** The roads set when it is there, else the samples: what the retrain section reads. */
export function defaultDatasetDir(): string {
  return existsSync(SHARED_ROADS_DIR) ? SHARED_ROADS_DIR : SAMPLES_DIR;
}

/** Image files below `dir` (by name), sorted, so every run reads the same photos. */
export async function listPhotos(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })).map(String);
  } catch (err) {
    throw new EdgePotholeError(
      'EP_USAGE',
      `photo folder ${dir} cannot be read (${(err as NodeJS.ErrnoException).code}); ` +
        'give a folder of JPEG, PNG or WebP road photos',
      { cause: err },
    );
  }

  const files = names.filter((name) => IMAGE_NAME.test(name)).sort();
  if (files.length === 0) {
    throw new EdgePotholeError(
      'EP_USAGE',
      `photo folder ${dir} has no .jpg, .png or .webp files; give a folder of road photos`,
    );
  }

  return files.map((name) => path.join(dir, name));
}

/** Every `step`-th item, so a subset still spans every class and source of a sorted list. */
export function spread<T>(items: T[], count: number): T[] {
  if (count >= items.length) return items;

  const step = items.length / count;

  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]);
}

/** Decodes and resizes photos to network input, one after another. */
export async function decodePhotos(files: string[], size: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for (const file of files) frames.push((await prepareImageFile(file, { size })).pixels);

  return frames;
}
