import { falsyValue, plainString } from './formats';

/** The `source` section of the schema: which camera, and how frames are taken from it. */

const SPEC_PATTERN = /^(dir:.+|image:.+|file:.+|webcam:.+|v4l2:.+|rtsps?:\/\/\S+|https?:\/\/\S+)$/;

function sourceSpec(value: unknown): void {
  if (typeof value !== 'string' || !SPEC_PATTERN.test(value) || /[\u0000\r\n]/.test(value)) {
    throw new Error('must look like dir:PATH, image:FILE, file:VIDEO, webcam:/dev/videoN, ' +
      `v4l2:/dev/videoN, rtsp://... or http(s)://...${falsyValue(value)}`);
  }
}

export const sourceSchema = {
  spec: {
    doc: 'Camera: dir:PATH replays image files in name order; image:FILE is one frame; ' +
      'file:VIDEO, v4l2:/dev/videoN, rtsp://... and http(s)://... go through one ffmpeg ' +
      'process; webcam:/dev/videoN grabs single frames with fswebcam.',
    format: sourceSpec,
    default: 'webcam:/dev/video0',
    env: 'EDGE_POTHOLE_SOURCE',
    arg: 'source',
  },
  fps: {
    doc: 'Frames per second to take from the source; 0 = as fast as inference allows ' +
      '(ffmpeg sources: the camera\'s own rate).',
    format: 'non-negative-number',
    default: 0,
    env: 'EDGE_POTHOLE_FPS',
    arg: 'fps',
  },
  loop: {
    doc: 'Replay a dir: or file: source forever instead of exiting when it ends.',
    format: 'strict-boolean',
    default: false,
    env: 'EDGE_POTHOLE_SOURCE_LOOP',
    arg: 'source.loop',
  },
  width: {
    doc: 'Frame width in pixels delivered by webcam and ffmpeg sources.',
    format: 'positive-integer',
    default: 1280,
    env: 'EDGE_POTHOLE_SOURCE_WIDTH',
    arg: 'source.width',
  },
  height: {
    doc: 'Frame height in pixels delivered by webcam and ffmpeg sources.',
    format: 'positive-integer',
    default: 720,
    env: 'EDGE_POTHOLE_SOURCE_HEIGHT',
    arg: 'source.height',
  },
  stall_seconds: {
    doc: 'Watchdog: seconds without a frame before the capture is restarted (ffmpeg sources).',
    format: 'positive-number',
    default: 20,
    env: 'EDGE_POTHOLE_SOURCE_STALL_SECONDS',
    arg: 'source.stall_seconds',
  },
  warmup_frames: {
    doc: 'Frames discarded after each (re)start of the capture, for cameras whose first ' +
      'frames are dark.',
    format: 'whole-number',
    default: 0,
    env: 'EDGE_POTHOLE_SOURCE_WARMUP_FRAMES',
    arg: 'source.warmup_frames',
  },
  ffmpeg: {
    doc: 'The ffmpeg executable for file:, v4l2:, rtsp:// and http(s):// sources: a name ' +
      'looked up on PATH or an absolute path.',
    format: plainString,
    default: 'ffmpeg',
    env: 'EDGE_POTHOLE_FFMPEG',
    arg: 'source.ffmpeg',
  },
};
