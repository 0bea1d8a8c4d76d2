import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { test } from 'node:test';

import { sniffImageFormat } from '../../src/preprocess/sniff';
import { needsShared, SHARED_VIDEO } from '../helpers/paths';

/** The first 16 bytes of an ISO-BMFF file: box size, 'ftyp', major brand, minor version. */
function ftypHead(brand: string): Buffer {
  return Buffer.concat([
    Buffer.from('00000018', 'hex'),
    Buffer.from(`ftyp${brand}`, 'latin1'),
    Buffer.alloc(4),
  ]);
}

test('recognises the AVIF and HEIF still-image brands of an ftyp box as heif', () => {
  for (const brand of ['avif', 'avis', 'heic', 'heix', 'mif1', 'msf1']) {
    assert.equal(sniffImageFormat(ftypHead(brand)), 'heif', brand);
  }
});

test('does not take an MP4 or QuickTime ftyp box for an image', () => {
  for (const brand of ['isom', 'mp41', 'mp42', 'avc1', 'qt  ', 'M4V ', '3gp4']) {
    assert.equal(sniffImageFormat(ftypHead(brand)), undefined, brand);
  }
});

test('does not take the shared dashcam video for an image', { skip: needsShared(SHARED_VIDEO) },
  async () => {
    const handle = await open(SHARED_VIDEO, 'r');
    const head = Buffer.alloc(16);
    await handle.read(head, 0, 16, 0);
    await handle.close();

    assert.equal(head.subarray(4, 8).toString('latin1'), 'ftyp');
    assert.equal(sniffImageFormat(head), undefined);
  });
