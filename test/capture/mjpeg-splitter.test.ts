import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { MjpegSplitter } from '../../src/capture/mjpeg-splitter';
import { SAMPLES_DIR } from '../helpers/paths';

const JPEG = readFileSync(path.join(SAMPLES_DIR, 'pothole',
  '54_jpg.rf.43ed40238e96d279df3494fe85dce503.jpg'));

test('cuts a stream of real JPEGs into the same files, whatever the chunk size', () => {
  const stream = Buffer.concat([JPEG, JPEG, JPEG]);
  for (const size of [3, 4096, stream.length]) {
    const splitter = new MjpegSplitter();
    const frames: Buffer[] = [];
    for (let i = 0; i < stream.length; i += size) {
      frames.push(...splitter.push(stream.subarray(i, i + size)));
    }

    assert.equal(frames.length, 3, `chunks of ${size}`);
    frames.forEach((frame) => assert.ok(frame.equals(JPEG)));
  }
});

test('skips bytes outside a frame and counts them', () => {
  const splitter = new MjpegSplitter();
  const frames = splitter.push(Buffer.concat([Buffer.from('noise'), JPEG, Buffer.from('xy')]));

  assert.equal(frames.length, 1);
  assert.ok(frames[0].equals(JPEG));
  assert.equal(splitter.discardedBytes, 6);
});

test('holds back a frame until its end marker arrives', () => {
  const splitter = new MjpegSplitter();

  assert.deepEqual(splitter.push(JPEG.subarray(0, JPEG.length - 1)), []);
  assert.equal(splitter.push(JPEG.subarray(JPEG.length - 1)).length, 1);
});
