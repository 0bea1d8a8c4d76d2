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

export interface WebcamOptions {
  device: string;
  /** Capture size in pixels. */
  width: number;
  height: number;
}

/**
 * Grabs one JPEG per frame with fswebcam through node-webcam. node-webcam builds a shell
 * command from its options, so every value that reaches it is validated here: the device must
 * be /dev/videoN, sizes are integers, the output path is ours.
 */
export class WebcamSource implements FrameSource {
  readonly description: string;

  private constructor(
    private readonly device: string,
    private readonly camera: ReturnType<typeof NodeWebcam.create>,
    private readonly workDir: string,
  ) {
    this.description = `webcam:${device}`;
  }

  static async open(options: WebcamOptions): Promise<WebcamSource> {
    if (!DEVICE_PATTERN.test(options.device)) {
      throw new EdgePotholeError('EP_SOURCE_INVALID',
        `webcam device "${options.device}" is not a /dev/videoN path; use e.g. webcam:/dev/video0`);
    }
    for (const [name, value] of [['width', options.width], ['height', options.height]] as const) {
      if (!Number.isInteger(value) || value < 16 || value > 8192) {
        throw new EdgePotholeError('EP_SOURCE_INVALID', `webcam ${name} must be an integer 16..8192, got ${value}`);
      }
    }

    const workDir = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-webcam-'));
    const camera = NodeWebcam.create({
      width: options.width, height: options.height, quality: 90, frames: 1, delay: 0,
      output: 'jpeg', device: options.device, callbackReturn: 'buffer', verbose: false,
      saveShots: false, topBanner: false, bottomBanner: false,
    });

    return new WebcamSource(options.device, camera, workDir);
  }

  next(): Promise<Frame> {
    const location = path.join(this.workDir, 'frame');

    return new Promise((resolve, reject) => {
      this.camera.capture(location, (err, data) => {
        if (err || !Buffer.isBuffer(data) || data.length === 0) {
          reject(new EdgePotholeError('EP_SOURCE_FAILED',
            `fswebcam gave no image for ${this.device} (${err ? String(err) : 'empty output'}); ` +
            'check that the camera is connected and that fswebcam is installed', { cause: err }));

          return;
        }
        resolve({ data, capturedAt: new Date(), source: this.device });
      });
    });
  }

  async close(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true });
  }
}
