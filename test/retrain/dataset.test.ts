import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import sharp from 'sharp';

import {
  groupOf,
  imagesIn,
  scanDataset,
  type Dataset,
  type ScanOptions,
} from '../../src/retrain/dataset';
import { EdgePotholeError } from '../../src/util/errors';
import { needsShared, SAMPLES_DIR, SHARED_ROADS_DIR } from '../helpers/paths';

const SPLIT: ScanOptions = { validationPercentage: 10, testingPercentage: 10 };

let tmp: string;
let samples: Record<'pothole' | 'normal', string[]>;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-dataset-'));
  samples = {
    pothole: (await readdir(path.join(SAMPLES_DIR, 'pothole'))).sort(),
    normal: (await readdir(path.join(SAMPLES_DIR, 'normal'))).sort(),
  };
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let dirCount = 0;

/** A fresh image dir with `counts[label]` real sample photos per class (reused under new names). */
async function makeImageDir(
  counts: Partial<Record<'pothole' | 'normal', number>>,
): Promise<string> {
  dirCount += 1;
  const root = path.join(tmp, `images-${dirCount}`);
  for (const [label, count] of Object.entries(counts) as Array<['pothole' | 'normal', number]>) {
    await mkdir(path.join(root, label), { recursive: true });
    for (let i = 0; i < count; i++) {
      const sample = samples[label][i % samples[label].length];
      await copyFile(
        path.join(SAMPLES_DIR, label, sample),
        path.join(root, label, `copy${i}_${sample}`),
      );
    }
  }

  return root;
}

async function assertDatasetInvalid(promise: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof EdgePotholeError, `expected an EdgePotholeError, got ${String(err)}`);
    assert.equal(err.code, 'EP_DATASET_INVALID');
    assert.equal(err.message, message);

    return true;
  });
}

function setsByPath(dataset: Dataset): Record<string, string> {
  return Object.fromEntries(dataset.images.map((image) => [image.relativePath, image.set]));
}

describe('scanDataset', () => {
  test('reads a folder per class, labels sorted, every photo with its label and set', async () => {
    const root = await makeImageDir({ pothole: 24, normal: 22 });

    const dataset = await scanDataset(root, SPLIT);

    assert.deepEqual(dataset.labels, ['normal', 'pothole']);
    assert.equal(dataset.images.length, 46);
    assert.deepEqual(dataset.notImages, []);
    for (const image of dataset.images) {
      assert.equal(image.labelIndex, dataset.labels.indexOf(image.label));
      assert.equal(image.file, path.join(root, image.relativePath));
      assert.ok(image.relativePath.startsWith(`${image.label}/copy`), image.relativePath);
      assert.ok(['training', 'validation', 'testing'].includes(image.set));
    }
    assert.equal(
      imagesIn(dataset, 'training').length +
        imagesIn(dataset, 'validation').length +
        imagesIn(dataset, 'testing').length,
      46,
    );
  });

  test('refuses an image dir with one class folder, naming the folder and the count', async () => {
    const root = await makeImageDir({ pothole: 24 });
    await mkdir(path.join(root, '.thumbnails'));

    await assertDatasetInvalid(
      scanDataset(root, SPLIT),
      `image dir ${root} has 1 class folder(s) (pothole); ` +
        'at least 2 are needed, one sub-folder of photos per class',
    );
  });

  test('refuses an image dir with no class folder at all', async () => {
    const root = await makeImageDir({});
    await mkdir(root, { recursive: true });

    await assertDatasetInvalid(
      scanDataset(root, SPLIT),
      `image dir ${root} has 0 class folder(s) (none); ` +
        'at least 2 are needed, one sub-folder of photos per class',
    );
  });

  test('refuses an image dir that does not exist', async () => {
    const root = path.join(tmp, 'no-such-dir');

    await assertDatasetInvalid(
      scanDataset(root, SPLIT),
      `image dir ${root} cannot be read (ENOENT); ` +
        'pass --image_dir with one sub-folder of photos per class',
    );
  });

  test('refuses a class of 5 photos, naming its folder, the count and the minimum', async () => {
    const root = await makeImageDir({ pothole: 24, normal: 5 });

    await assertDatasetInvalid(
      scanDataset(root, SPLIT),
      `class folder ${path.join(root, 'normal')} has 5 ` +
        'images, fewer than the minimum of 20; ' +
        'add photos, or pass --allow_small_classes to train anyway',
    );
  });

  test('refuses a class folder that holds no image, even with allowSmallClasses', async () => {
    const root = await makeImageDir({ pothole: 24, normal: 0 });
    await writeFile(path.join(root, 'normal', 'README.jpg'), 'photos go here\n');

    await assertDatasetInvalid(
      scanDataset(root, { ...SPLIT, allowSmallClasses: true }),
      `class folder ${path.join(root, 'normal')} has no image files (0 found); ` +
        'add photos or remove the folder',
    );
  });

  test('refuses a class of 2 photos with allowSmallClasses: each set needs one', async () => {
    const root = await makeImageDir({ pothole: 5, normal: 2 });

    await assertDatasetInvalid(
      scanDataset(root, { ...SPLIT, allowSmallClasses: true }),
      `class folder ${path.join(root, 'normal')} has 2 images; even with --allow_small_classes ` +
        'a class needs 3 (one for each of training, validation and testing)',
    );
  });

  test('with allowSmallClasses puts at least one photo of every class in each set', async () => {
    const root = await makeImageDir({ pothole: 5, normal: 3 });

    const dataset = await scanDataset(root, { ...SPLIT, allowSmallClasses: true });

    assert.equal(dataset.images.length, 8);
    for (const label of dataset.labels) {
      for (const set of ['training', 'validation', 'testing'] as const) {
        const count = imagesIn(dataset, set).filter((image) => image.label === label).length;
        assert.ok(count >= 1, `${label} has no ${set} image`);
      }
    }
  });

  test('lists a text file named .jpg and an empty file in notImages, not a PNG', async () => {
    const root = await makeImageDir({ pothole: 20, normal: 20 });
    const text = path.join(root, 'pothole', 'notes.jpg');
    const empty = path.join(root, 'normal', 'empty.jpg');
    const png = path.join(root, 'normal', 'really-a-png.jpg');
    await writeFile(text, 'lat,lon\n52.1,4.3\n');
    await writeFile(empty, '');
    await writeFile(
      png,
      await sharp(path.join(SAMPLES_DIR, 'normal', samples.normal[0]))
        .png()
        .toBuffer(),
    );

    const dataset = await scanDataset(root, SPLIT);

    assert.deepEqual(dataset.notImages.sort(), [empty, text].sort());
    const files = dataset.images.map((image) => image.file);
    assert.ok(files.includes(png), 'the PNG is an image');
    assert.ok(!files.includes(text) && !files.includes(empty));
  });

  test('finds photos named with spaces, accents in NFC and NFD, and CJK', async () => {
    const root = await makeImageDir({ pothole: 20, normal: 20 });
    const names = [
      'pot hole 1.jpg',
      'nid-de-poule-é.jpg'.normalize('NFC'),
      'ornière-è.jpg'.normalize('NFD'),
      '道路.jpg',
    ];
    for (const name of names) {
      await copyFile(
        path.join(SAMPLES_DIR, 'pothole', samples.pothole[0]),
        path.join(root, 'pothole', name),
      );
    }

    const dataset = await scanDataset(root, SPLIT);

    const found = dataset.images.filter((image) => !image.relativePath.includes('copy'));
    assert.deepEqual(
      found.map((image) => image.relativePath).sort(),
      names.map((n) => `pothole/${n}`).sort(),
    );
    for (const image of found) assert.equal(image.file, path.join(root, image.relativePath));
  });

  test('finds photos in sub-folders and groups them by sub-folder', async () => {
    const root = await makeImageDir({ pothole: 20, normal: 20 });
    await mkdir(path.join(root, 'pothole', 'dashcam'));
    await copyFile(
      path.join(SAMPLES_DIR, 'pothole', samples.pothole[0]),
      path.join(root, 'pothole', 'dashcam', 'frame1.jpg'),
    );

    const dataset = await scanDataset(root, SPLIT);

    const nested = dataset.images.find(
      (image) => image.relativePath === 'pothole/dashcam/frame1.jpg',
    );
    assert.ok(nested, 'the nested photo is found');
    assert.equal(nested.group, 'dashcam/');
  });

  test('skips hidden files and folders entirely', async () => {
    const root = await makeImageDir({ pothole: 20, normal: 20 });
    await mkdir(path.join(root, 'pothole', '.cache'));
    await copyFile(
      path.join(SAMPLES_DIR, 'pothole', samples.pothole[0]),
      path.join(root, 'pothole', '.cache', 'a.jpg'),
    );
    await writeFile(path.join(root, 'normal', '.DS_Store'), 'Bud1');

    const dataset = await scanDataset(root, SPLIT);

    assert.equal(dataset.images.length, 40);
    assert.deepEqual(dataset.notImages, []);
  });

  test('keeps every photo in its set when the image dir is moved', async () => {
    const root = await makeImageDir({ pothole: 24, normal: 24 });
    const original = await scanDataset(root, SPLIT);
    const moved = path.join(tmp, 'moved', 'deeper', 'roads');
    await mkdir(path.dirname(moved), { recursive: true });
    await rename(root, moved);

    const relocated = await scanDataset(moved, SPLIT);

    assert.deepEqual(setsByPath(relocated), setsByPath(original));
    assert.ok(relocated.images.every((image) => image.file.startsWith(moved)));
  });

  test(
    'scans the shared roads data set with every set in use',
    { skip: needsShared() },
    async () => {
      const dataset = await scanDataset(SHARED_ROADS_DIR, SPLIT);

      assert.deepEqual(dataset.labels, ['normal', 'pothole']);
      const validation = imagesIn(dataset, 'validation').length / dataset.images.length;
      const testing = imagesIn(dataset, 'testing').length / dataset.images.length;
      assert.ok(validation > 0.05 && validation < 0.15, `validation share ${validation}`);
      assert.ok(testing > 0.05 && testing < 0.15, `testing share ${testing}`);
    },
  );
});

describe('groupOf', () => {
  test('names a letter prefix ending in "-" as the group', () => {
    assert.equal(groupOf('rf-x.jpg'), 'rf-');
    assert.equal(groupOf('img-102_jpg.rf.edba.jpg'), 'img-');
  });

  test('names the first sub-folder as the group', () => {
    assert.equal(groupOf('sub/x.jpg'), 'sub/');
    assert.equal(groupOf('sub/rf-x.jpg'), 'sub/');
    assert.equal(groupOf('a/b/x.jpg'), 'a/');
  });

  test('puts anything else in "other"', () => {
    assert.equal(groupOf('x.jpg'), 'other');
    assert.equal(groupOf('4-409-_jpg.rf.2fcc.jpg'), 'other');
    assert.equal(groupOf('frame1144_jpg.rf.1149.jpg'), 'other');
  });
});
