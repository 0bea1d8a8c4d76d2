import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { ffmpegPlan } from '../../src/capture/ffmpeg-args';

const SETTINGS = { width: 640, height: 360, fps: 5, loop: false };
const OUTPUT = ['-an', '-vf', 'fps=5,scale=640:360', '-f', 'image2pipe', '-c:v', 'mjpeg',
  '-q:v', '3', 'pipe:1'];
const QUIET = ['-hide_banner', '-loglevel', 'error', '-nostdin'];

test('reads a video file at its own pace as a plain file, and ends with it', () => {
  const plan = ffmpegPlan('file:drive.mp4', SETTINGS);
  const file = path.resolve('drive.mp4');

  assert.deepEqual(plan, { kind: 'file', description: `file:${file}`, finite: true,
    args: [...QUIET, '-re', '-i', `file:${file}`, ...OUTPUT] });
});

test('loops a video file forever with source.loop', () => {
  const plan = ffmpegPlan('file:/data/drive.mp4', { ...SETTINGS, loop: true });

  assert.equal(plan.finite, false);
  assert.deepEqual(plan.args.slice(4, 9),
    ['-stream_loop', '-1', '-re', '-i', 'file:/data/drive.mp4']);
});

test('opens a V4L2 device at the configured rate and keeps the device to watch for', () => {
  const plan = ffmpegPlan('v4l2:/dev/video2', SETTINGS);

  assert.equal(plan.device, '/dev/video2');
  assert.deepEqual(plan.args, [...QUIET, '-f', 'v4l2', '-framerate', '5', '-i', '/dev/video2',
    ...OUTPUT]);
});

test('takes the camera\'s own rate when fps is 0', () => {
  const plan = ffmpegPlan('v4l2:/dev/video0', { ...SETTINGS, fps: 0 });

  assert.deepEqual(plan.args.slice(4, 8), ['-f', 'v4l2', '-i', '/dev/video0']);
  assert.equal(plan.args[plan.args.indexOf('-vf') + 1], 'scale=640:360');
});

test('reads RTSP over TCP and masks the password in the description', () => {
  const plan = ffmpegPlan('rtsp://cam:s3cret@192.0.2.7:554/stream1', SETTINGS);

  assert.equal(plan.kind, 'rtsp');
  assert.equal(plan.description, 'rtsp://cam:***@192.0.2.7:554/stream1');
  assert.deepEqual(plan.args.slice(4, 8), ['-rtsp_transport', 'tcp', '-i',
    'rtsp://cam:s3cret@192.0.2.7:554/stream1']);
});

test('reads an HTTP MJPEG stream', () => {
  const plan = ffmpegPlan('http://192.0.2.8/video.mjpg', SETTINGS);

  assert.equal(plan.kind, 'http');
  assert.deepEqual(plan.args.slice(4, 6), ['-i', 'http://192.0.2.8/video.mjpg']);
});

test('refuses a V4L2 path outside /dev/videoN, naming the spec and the fix', () => {
  assert.throws(() => ffmpegPlan('v4l2:/dev/sda; rm -rf /', SETTINGS), {
    code: 'EP_SOURCE_INVALID',
    message: 'source v4l2:/dev/sda; rm -rf /: give a device like v4l2:/dev/video0',
  });
});

test('refuses a URL of another protocol', () => {
  assert.throws(() => ffmpegPlan('ftp://192.0.2.9/x.mp4', SETTINGS), {
    code: 'EP_SOURCE_INVALID',
    message: 'source ftp://192.0.2.9/x.mp4: use file:, v4l2:, rtsp:// or http(s)://',
  });
});
