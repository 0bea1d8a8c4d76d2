import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { EdgePotholeError } from '../util/errors';
import type { Frame, FrameSource } from './source';

// node-webcam has no type declarations.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const NodeWebcam = require('node-webcam') as {
  create(options: Record<string, unknown>): {
    capture(location: string, callback: (err: unknown, data: unknown) => void): void;
  };
};

const DEVICE_PATTERN = /^\/dev\/video\d{1,3}$/;
/** What a path that reaches node-webcam's shell command may contain: no quote, space or `$`. */
const SHELL_SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
/** Default for `captureTimeoutMs`: a USB camera answers in well under a second. */
const DEFAULT_CAPTURE_TIMEOUT_MS = 10_000;

export interface WebcamOptions {
  device: string;
  /** Capture size in pixels, 16..8192. */
  width: number;
  height: number;
  /** Milliseconds one fswebcam run may take before the frame counts as failed; default 10000. */
  captureTimeoutMs?: number;
}

function invalid(message: string): EdgePotholeError {
  return new EdgePotholeError('EP_SOURCE_INVALID', message);
}

/**
 * node-webcam joins its options into one shell command line, so every value that reaches
 * it is checked here, and the rest are constants of ours. Throws EP_SOURCE_INVALID naming
 * the option, what is allowed and the value received.
 */
export function validateWebcamOptions(options: WebcamOptions): void {
  if (!DEVICE_PATTERN.test(options.device)) {
    throw invalid(`webcam device "${options.device}" is not a /dev/videoN path; use e.g. ` +
      'webcam:/dev/video0');
  }
  for (const [name, value] of [['width', options.width], ['height', options.height]] as const) {
    if (!Number.isInteger(value) || value < 16 || value > 8192) {
      throw invalid(`webcam ${name} must be an integer 16..8192, got ${value}`);
    }
  }
}

/**
 * Grabs one JPEG per frame with fswebcam through node-webcam: the first version's camera
 * path, kept for USB cameras on machines without ffmpeg. Prefer `v4l2:` (one ffmpeg process
 * instead of one fswebcam run per frame) where ffmpeg is installed.
 */
export class WebcamSource implements FrameSource {
  readonly description: string;

  private constructor(
    private readonly device: string,
    private readonly camera: ReturnType<typeof NodeWebcam.create>,
    private readonly workDir: string,
    private readonly timeoutMs: number,
  ) {
    this.description = `webcam:${device}`;
  }

  static async open(options: WebcamOptions): Promise<WebcamSource> {
    validateWebcamOptions(options);

    const workDir = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-webcam-'));
    if (!SHELL_SAFE_PATH.test(workDir)) {
      await rm(workDir, { recursive: true, force: true });
      throw invalid(`the temporary directory ${JSON.stringify(workDir)} holds characters a ` +
        'shell would interpret; set TMPDIR to a plain path');
    }
    const camera = NodeWebcam.create({
      width: options.width, height: options.height, quality: 90, frames: 1, delay: 0,
      output: 'jpeg', device: options.device, callbackReturn: 'buffer', verbose: false,
      saveShots: false, topBanner: false, bottomBanner: false,
    });

    return new WebcamSource(options.device, camera, workDir,
      options.captureTimeoutMs ?? DEFAULT_CAPTURE_TIMEOUT_MS);
  }

  async next(): Promise<Frame> {
    const location = path.join(this.workDir, 'frame.jpg');
    // An fswebcam that writes nothing must not hand back the previous frame.
    await rm(location, { force: true });

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.failure(`no answer in ${this.timeoutMs} ms`)),
        this.timeoutMs);
      this.camera.capture(location, (err, data) => {
        clearTimeout(timer);
        if (err || !Buffer.isBuffer(data) || data.length === 0) {
          reject(this.failure(err ? String(err).split('\n')[0] : 'empty output', err));

          return;
        }
        resolve({ data, capturedAt: new Date(), source: this.device });
      });
    });
  }

  private failure(why: string, cause?: unknown): EdgePotholeError {
    return new EdgePotholeError('EP_SOURCE_FAILED', `fswebcam gave no image for ${this.device} ` +
      `(${why}); check that the camera is connected and that fswebcam is installed`, { cause });
  }

  async close(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true });
  }
}
