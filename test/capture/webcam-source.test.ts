import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { WebcamSource } from '../../src/capture/webcam-source';
import { SAMPLES_DIR } from '../helpers/paths';

const SAMPLE_JPEG = path.join(SAMPLES_DIR, 'normal',
  '009_jpg.rf.17024b508c36b619f9e8d66d74b47799.jpg');

let tmp: string;
const originalPath = process.env.PATH;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-webcam-test-'));
});

after(async () => {
  process.env.PATH = originalPath;
  await rm(tmp, { recursive: true, force: true });
});

/**
 * Puts a stand-in `fswebcam` first on PATH (node-webcam runs it through a shell). `body` is
 * its shell script; "$last" is the output file node-webcam asks for. It also records its
 * arguments, so the test sees exactly what the shell received.
 */
async function standInFswebcam(name: string, body: string): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'fswebcam'), `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/args"
for last; do :; done
${body}
`);
  await chmod(path.join(dir, 'fswebcam'), 0o755);
  process.env.PATH = `${dir}${path.delimiter}${originalPath}`;

  return dir;
}

test('grabs a real JPEG through fswebcam with exactly the options we validated', async () => {
  const dir = await standInFswebcam('writes', `cp "${SAMPLE_JPEG}" "$last"`);
  const source = await WebcamSource.open({ device: '/dev/video0', width: 640, height: 480 });

  try {
    const frame = await source.next();
    assert.deepEqual(frame.data, await readFile(SAMPLE_JPEG));
    assert.equal(frame.source, '/dev/video0');

    const args = (await readFile(path.join(dir, 'args'), 'utf8')).trim().split('\n');
    assert.deepEqual(args.slice(0, -1), ['-q', '-r', '640x480', '-F', '1', '--jpeg', '90', '-d',
      '/dev/video0', '--no-banner']);
    assert.match(args.at(-1) as string, /^\/[A-Za-z0-9_./-]+\/frame\.jpg$/);
  } finally {
    await source.close();
  }
});

test('fails with a clear error, not a hang and not the previous frame, when fswebcam writes ' +
  'nothing and exits 0', { timeout: 15_000 }, async () => {
  await standInFswebcam('first', `cp "${SAMPLE_JPEG}" "$last"`);
  const source = await WebcamSource.open({ device: '/dev/video1', width: 320, height: 240 });

  try {
    await source.next();
    await standInFswebcam('silent', 'exit 0');

    await assert.rejects(source.next(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'EP_SOURCE_FAILED');
      assert.match(err.message, new RegExp('^fswebcam gave no image for /dev/video1 ' +
        '\\(.*ENOENT.*\\); ' +
        'check that the camera is connected and that fswebcam is installed$'));

      return true;
    });
  } finally {
    await source.close();
  }
});

test('gives up on an fswebcam that does not answer within the capture timeout', { timeout: 15_000 },
  async () => {
    await standInFswebcam('hangs', 'sleep 5');
    const source = await WebcamSource.open({ device: '/dev/video2', width: 320, height: 240,
      captureTimeoutMs: 300 });

    try {
      await assert.rejects(source.next(), {
        code: 'EP_SOURCE_FAILED',
        message: 'fswebcam gave no image for /dev/video2 (no answer in 300 ms); check that the ' +
          'camera is connected and that fswebcam is installed',
      });
    } finally {
      await source.close();
    }
  });

test('refuses a device path that would inject a shell command', async () => {
  await assert.rejects(WebcamSource.open({ device: '/dev/video0; touch /tmp/pwned', width: 640,
    height: 480 }), {
    code: 'EP_SOURCE_INVALID',
    message: 'webcam device "/dev/video0; touch /tmp/pwned" is not a /dev/videoN path; use e.g. ' +
      'webcam:/dev/video0',
  });
});

test('refuses a size that is not a whole number of pixels, naming it', async () => {
  const width = '640 $(reboot)' as unknown as number;

  await assert.rejects(WebcamSource.open({ device: '/dev/video0', width, height: 480 }), {
    code: 'EP_SOURCE_INVALID',
    message: 'webcam width must be an integer 16..8192, got 640 $(reboot)',
  });
});
