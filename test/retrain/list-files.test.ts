import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { scanDataset } from '../../src/retrain/dataset';
import { listFiles } from '../../src/retrain/list-files';
import { SAMPLES_DIR } from '../helpers/paths';

let tmp: string;
let photos: Record<'pothole' | 'normal', string[]>;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-list-'));
  photos = {
    pothole: (await readdir(path.join(SAMPLES_DIR, 'pothole'))).sort(),
    normal: (await readdir(path.join(SAMPLES_DIR, 'normal'))).sort(),
  };
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let count = 0;

/** A fresh folder holding `n` real sample photos of `label`. */
async function folderOf(label: 'pothole' | 'normal', n: number): Promise<string> {
  count += 1;
  const dir = path.join(tmp, `${label}-${count}`);
  await mkdir(dir, { recursive: true });
  for (const name of photos[label].slice(0, n)) {
    await copyFile(path.join(SAMPLES_DIR, label, name), path.join(dir, name));
  }

  return dir;
}

test('follows a symbolic link to a photo and to a folder of photos', async () => {
  const dir = await folderOf('pothole', 2);
  const elsewhere = await folderOf('normal', 3);
  await symlink(path.join(SAMPLES_DIR, 'pothole', photos.pothole[5]), path.join(dir, 'linked.jpg'));
  await symlink(elsewhere, path.join(dir, 'more'));

  const listing = await listFiles(dir);

  assert.deepEqual(listing.files, [
    ...photos.pothole.slice(0, 2),
    'linked.jpg',
    ...photos.normal.slice(0, 3).map((name) => `more/${name}`),
  ].sort());
  assert.deepEqual(listing.broken, []);
  assert.deepEqual(listing.repeated, []);
});

test('lists a folder that links to itself once and reports the loop', async () => {
  const dir = await folderOf('pothole', 2);
  await symlink(dir, path.join(dir, 'again'));
  await mkdir(path.join(dir, 'sub'));
  await symlink('..', path.join(dir, 'sub', 'up'));

  const listing = await listFiles(dir);

  assert.deepEqual(listing.files, photos.pothole.slice(0, 2));
  assert.deepEqual(listing.repeated.sort(), [path.join(dir, 'again'), path.join(dir, 'sub', 'up')]);
});

test('reports a broken symbolic link instead of failing', async () => {
  const dir = await folderOf('normal', 1);
  await symlink(path.join(tmp, 'gone.jpg'), path.join(dir, 'dangling.jpg'));

  const listing = await listFiles(dir);

  assert.deepEqual(listing.files, photos.normal.slice(0, 1));
  assert.deepEqual(listing.broken, [path.join(dir, 'dangling.jpg')]);
});

test('scans class folders that are symbolic links, labels from the link names', async () => {
  const root = path.join(tmp, 'linked-classes');
  await mkdir(root);
  await symlink(await folderOf('pothole', 4), path.join(root, 'pothole'));
  await symlink(await folderOf('normal', 4), path.join(root, 'normal'));
  await symlink(path.join(tmp, 'nothing-here'), path.join(root, 'broken'));

  const dataset = await scanDataset(root, {
    validationPercentage: 10, testingPercentage: 10, allowSmallClasses: true,
  });

  assert.deepEqual(dataset.labels, ['normal', 'pothole']);
  assert.equal(dataset.images.length, 8);
  assert.ok(dataset.images.every((image) => image.file.startsWith(root)));
});

test('reads a class folder linked from another class only as its own class', async () => {
  const root = path.join(tmp, 'shared-folder');
  await mkdir(path.join(root, 'normal'), { recursive: true });
  const potholes = await folderOf('pothole', 4);
  await symlink(potholes, path.join(root, 'pothole'));
  await symlink(potholes, path.join(root, 'normal', 'oops'));
  for (const name of photos.normal.slice(0, 4)) {
    await copyFile(path.join(SAMPLES_DIR, 'normal', name), path.join(root, 'normal', name));
  }

  const dataset = await scanDataset(root, {
    validationPercentage: 10, testingPercentage: 10, allowSmallClasses: true,
  });

  assert.equal(dataset.images.filter((image) => image.label === 'normal').length, 4);
  assert.equal(dataset.images.filter((image) => image.label === 'pothole').length, 4);
  assert.deepEqual(dataset.repeatedDirs, [path.join(root, 'normal', 'oops')]);
});
