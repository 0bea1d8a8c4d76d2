import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

import { isImageFile } from '../preprocess/sniff';
import { EdgePotholeError } from '../util/errors';
import { listFiles } from './list-files';
import { assignSet, type DataSet } from './split';

/** retrain.py warns below this many images per class; we stop unless told otherwise. */
export const MIN_IMAGES_PER_CLASS = 20;

export interface DatasetImage {
  /** Absolute path. */
  file: string;
  /** Path relative to the image dir, '/'-separated: what the split hashes. */
  relativePath: string;
  label: string;
  labelIndex: number;
  set: DataSet;
  /** Source group for the per-group report: a sub-folder, a name prefix like `rf-`, or `other`. */
  group: string;
}

export interface Dataset {
  labels: string[];
  images: DatasetImage[];
  /**
   * Files that are not images by their content, and broken symbolic links (skipped with a
   * warning each).
   */
  notImages: string[];
  /** Folders reached again through a symbolic link (a loop, or a second link): not read twice. */
  repeatedDirs: string[];
}

export interface ScanOptions {
  validationPercentage: number;
  testingPercentage: number;
  /** Allow classes with fewer than MIN_IMAGES_PER_CLASS images. */
  allowSmallClasses?: boolean;
}

function invalidDataset(message: string): EdgePotholeError {
  return new EdgePotholeError('EP_DATASET_INVALID', message);
}

/** Source group of a file in its class folder: `rf-cracks.jpg` -> `rf-`, `sub/x.jpg` -> `sub/`. */
export function groupOf(pathInClass: string): string {
  const parts = pathInClass.split('/');
  if (parts.length > 1) return `${parts[0]}/`;

  const prefix = /^([A-Za-z]+)-/.exec(parts[0]);

  return prefix ? `${prefix[1]}-` : 'other';
}

/**
 * Reads a folder per class (label = folder name, sorted), decides by content which files are
 * images, assigns each to a set, and refuses before any expensive work when the data set cannot
 * train a useful model: fewer than two classes, or a class with too few images.
 */
export async function scanDataset(imageDir: string, options: ScanOptions): Promise<Dataset> {
  const root = path.resolve(imageDir);
  const labels = await classFolders(root);

  const dataset: Dataset = { labels, images: [], notImages: [], repeatedDirs: [] };
  const seen = new Set(await Promise.all(labels.map((label) => realpath(path.join(root, label)))));
  for (const [labelIndex, label] of labels.entries()) {
    const classDir = path.join(root, label);
    const listing = await listFiles(classDir, seen);
    dataset.notImages.push(...listing.broken);
    dataset.repeatedDirs.push(...listing.repeated);

    const classImages: DatasetImage[] = [];
    for (const inClass of listing.files) {
      const file = path.join(classDir, inClass);
      if (!(await isImageFile(file))) {
        dataset.notImages.push(file);
        continue;
      }
      const relativePath = `${label}/${inClass}`;
      classImages.push({
        file, relativePath, label, labelIndex, group: groupOf(inClass),
        set: assignSet(relativePath, options.validationPercentage, options.testingPercentage),
      });
    }
    checkClassSize(classDir, classImages.length, options.allowSmallClasses ?? false);
    if (options.allowSmallClasses) ensureEverySetHasOne(classImages);
    dataset.images.push(...classImages);
  }

  return dataset;
}

/** The class folders of the image dir (symbolic links to folders count), sorted. */
async function classFolders(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw invalidDataset(`image dir ${root} cannot be read (${code}); ` +
      'pass --image_dir with one sub-folder of photos per class');
  }

  const labels: string[] = [];
  for (const name of names.filter((n) => !n.startsWith('.'))) {
    const info = await stat(path.join(root, name)).catch(() => undefined);
    if (info?.isDirectory()) labels.push(name);
  }
  labels.sort();
  if (labels.length < 2) {
    const names = labels.join(', ') || 'none';
    throw invalidDataset(`image dir ${root} has ${labels.length} class folder(s) (${names}); ` +
      'at least 2 are needed, one sub-folder of photos per class');
  }

  return labels;
}

function checkClassSize(classDir: string, count: number, allowSmall: boolean): void {
  if (count === 0) {
    throw invalidDataset(`class folder ${classDir} has no image files (0 found); ` +
      'add photos or remove the folder');
  }
  if (count < MIN_IMAGES_PER_CLASS && !allowSmall) {
    throw invalidDataset(`class folder ${classDir} has ${count} images, fewer than the ` +
      `minimum of ${MIN_IMAGES_PER_CLASS}; add photos, or pass --allow_small_classes to ` +
      'train anyway');
  }
  if (count < 3) {
    throw invalidDataset(`class folder ${classDir} has ${count} images; even with ` +
      '--allow_small_classes a class needs 3 (one for each of training, validation and testing)');
  }
}

/**
 * With tiny classes the hash can leave a set empty; move one image of the class there,
 * deterministically. Called at scan time, and again by retrain on the images that could be read.
 */
export function ensureEverySetHasOne(classImages: DatasetImage[]): void {
  for (const wanted of ['training', 'validation', 'testing'] as const) {
    if (classImages.some((image) => image.set === wanted)) continue;

    const counts = new Map<DataSet, number>();
    for (const image of classImages) counts.set(image.set, (counts.get(image.set) ?? 0) + 1);
    const donor = [...classImages].reverse().find((image) => (counts.get(image.set) ?? 0) > 1);
    if (donor) donor.set = wanted;
  }
}

/** The images of one set. */
export function imagesIn(dataset: Dataset, set: DataSet): DatasetImage[] {
  return dataset.images.filter((image) => image.set === set);
}
