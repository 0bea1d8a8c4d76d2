import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import sharp from 'sharp';

import { FfmpegSource } from '../../src/capture/ffmpeg-source';
import type { CameraState } from '../../src/publish/messages';
import { waitUntil } from '../helpers/broker';
import { SAMPLES_DIR, SHARED_VIDEO, needsShared } from '../helpers/paths';

let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-ffmpeg-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const SAMPLE_JPEG = path.join(SAMPLES_DIR, 'pothole',
  '54_jpg.rf.43ed40238e96d279df3494fe85dce503.jpg');

function hasFfmpeg(): string | false {
  try {
    execFileSync('ffmpeg', ['-hide_banner', '-version'], { stdio: 'ignore' });

    return false;
  } catch {
    return 'needs ffmpeg on PATH (apt-get install ffmpeg; .ci/run installs it)';
  }
}

function watchStates(source: FfmpegSource): CameraState[] {
  const states: CameraState[] = [];
  source.onStateChange((state) => states.push(state));

  return states;
}

/**
 * A stand-in ffmpeg: answers -version, counts its runs in `<dir>/runs`, and on run N writes
 * `plan[N-1]` frames of a real JPEG then either hangs (a camera that stops sending) or exits 1.
 */
async function fakeFfmpeg(name: string, plan: Array<{ frames: number; then: 'hang' | 'exit' }>) {
  const dir = path.join(tmp, name);
  const script = path.join(dir, 'ffmpeg');
  await rm(dir, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  await writeFile(script, `#!${process.execPath}
const fs = require('node:fs');
if (process.argv.includes('-version')) { console.log('ffmpeg stand-in'); process.exit(0); }
const runsFile = ${JSON.stringify(path.join(dir, 'runs'))};
const run = (fs.existsSync(runsFile) ? Number(fs.readFileSync(runsFile, 'utf8')) : 0) + 1;
fs.writeFileSync(runsFile, String(run));
const step = ${JSON.stringify(plan)}[Math.min(run, ${plan.length}) - 1];
const jpeg = fs.readFileSync(${JSON.stringify(SAMPLE_JPEG)});
for (let i = 0; i < step.frames; i += 1) fs.writeSync(1, jpeg);
if (step.then === 'hang') setInterval(() => {}, 1000); else process.exit(1);
`);
  await chmod(script, 0o755);

  const runs = async () => Number(await readFile(path.join(dir, 'runs'), 'utf8'));

  return { binary: script, runs };
}

test('delivers JPEG frames of the configured size from the real video through one ffmpeg',
  { skip: needsShared(SHARED_VIDEO) || hasFfmpeg(), timeout: 30_000 }, async () => {
    const source = await FfmpegSource.open({ spec: `file:${SHARED_VIDEO}`, loop: false,
      width: 320, height: 180, fps: 10 });
    const states = watchStates(source);

    try {
      for (let i = 0; i < 3; i += 1) {
        const frame = await source.next();
        assert.ok(frame, 'the video ended early');
        const meta = await sharp(frame.data).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 320, 180]);
        assert.equal(frame.source, `file:${SHARED_VIDEO}`);
      }
      assert.deepEqual(states, ['running']);
    } finally {
      await source.close();
    }
  });

test('keeps only the newest frame while the loop is busy, and counts the dropped ones',
  { skip: needsShared(SHARED_VIDEO) || hasFfmpeg(), timeout: 30_000 }, async () => {
    const source = await FfmpegSource.open({ spec: `file:${SHARED_VIDEO}`, loop: false,
      width: 160, height: 90, fps: 10 });

    try {
      await source.next();
      // A slow inference: ten frames arrive meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const frame = await source.next();

      assert.ok(frame && Date.now() - frame.capturedAt.getTime() < 300, 'not the newest frame');
      const { captured, dropped } = source.counters();
      assert.ok(dropped >= 5 && dropped <= captured - 2,
        `captured ${captured}, dropped ${dropped}`);
    } finally {
      await source.close();
    }
  });

test('ends when a video file ends, after its last frames', { skip: needsShared(SHARED_VIDEO) ||
  hasFfmpeg(), timeout: 30_000 }, async () => {
  const clip = path.join(tmp, 'clip.mp4');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-t', '1', '-i', SHARED_VIDEO,
    '-c', 'copy', clip]);
  const source = await FfmpegSource.open({ spec: `file:${clip}`, loop: false, width: 160,
    height: 90, fps: 5 });
  const states = watchStates(source);

  let frames = 0;
  while (await source.next()) frames += 1;

  assert.ok(frames >= 2 && frames <= 6, `${frames} frames from a 1 s clip at 5 fps`);
  assert.deepEqual(states, ['running', 'ended']);
  await source.close();
});

test('restarts a capture that stops sending frames after stall_seconds, and drops warm-up frames',
  { timeout: 30_000 }, async () => {
    const fake = await fakeFfmpeg('stall', [{ frames: 3, then: 'hang' }]);
    const source = await FfmpegSource.open({ spec: 'rtsp://192.0.2.10/cam', loop: false,
      width: 64, height: 64, ffmpeg: fake.binary, stall_seconds: 0.5, warmup_frames: 2 });
    const states = watchStates(source);

    try {
      assert.ok(await source.next());
      await waitUntil(() => states.includes('stalled'), 5000);
      await waitUntil(() => states.at(-1) === 'running', 5000);

      assert.deepEqual(states.slice(0, 3), ['running', 'stalled', 'running']);
      assert.ok(await fake.runs() >= 2);
      // 2 of each run's 3 frames are warm-up.
      assert.equal(source.counters().captured, await fake.runs());
    } finally {
      await source.close();
    }
  });

test('retries a stream that is unavailable until it returns, reporting each change once',
  { timeout: 30_000 }, async () => {
    const fake = await fakeFfmpeg('gone', [{ frames: 0, then: 'exit' }, { frames: 0, then: 'exit' },
      { frames: 1, then: 'hang' }]);
    const source = await FfmpegSource.open({ spec: 'http://192.0.2.11/video.mjpg', loop: false,
      width: 64, height: 64, ffmpeg: fake.binary });
    const states = watchStates(source);

    try {
      // Backoff: 1 s, then 2 s.
      const frame = await source.next();
      assert.ok(frame);
      assert.deepEqual(states, ['unavailable', 'running']);
      assert.equal(await fake.runs(), 3);
    } finally {
      await source.close();
    }
  });

test('reports a missing V4L2 device as unavailable without starting ffmpeg', { timeout: 10_000 },
  async () => {
    const fake = await fakeFfmpeg('device', [{ frames: 1, then: 'hang' }]);
    const details: string[] = [];
    const source = await FfmpegSource.open({ spec: 'v4l2:/dev/video987', loop: false, width: 64,
      height: 64, ffmpeg: fake.binary });
    source.onStateChange((state, detail) => details.push(`${state}: ${detail}`));

    try {
      await waitUntil(() => details.length > 0, 3000);
      assert.deepEqual(details, ['unavailable: /dev/video987 does not exist (unplugged?)']);
      await assert.rejects(fake.runs(), { code: 'ENOENT' });
    } finally {
      await source.close();
    }
  });

test('refuses an ffmpeg that cannot run, naming the setting and the fix', async () => {
  await assert.rejects(FfmpegSource.open({ spec: 'rtsp://192.0.2.12/cam', loop: false,
    width: 64, height: 64, ffmpeg: '/nonexistent/ffmpeg' }), {
    code: 'EP_SOURCE_INVALID',
    message: 'ffmpeg executable "/nonexistent/ffmpeg" cannot run (ENOENT); install it ' +
      '(apt-get install ffmpeg) or set source.ffmpeg to its path',
  });
});
