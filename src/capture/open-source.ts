import { DirectorySource } from './dir-source';
import type { FrameSource } from './source';
import { WebcamSource } from './webcam-source';

export interface SourceSettings {
  spec: string;
  loop: boolean;
  width: number;
  height: number;
  /** Frames per second asked of ffmpeg sources; 0 = the camera's own rate. */
  fps?: number;
  /** Watchdog of ffmpeg sources: seconds without a frame before a restart; default 20. */
  stall_seconds?: number;
  /** Frames discarded after each (re)start of an ffmpeg source; default 0. */
  warmup_frames?: number;
  /** ffmpeg executable; default `ffmpeg`. */
  ffmpeg?: string;
}

/**
 * Opens the source named by a spec: `dir:PATH`, `image:FILE`, `webcam:/dev/videoN`, or one
 * of the ffmpeg kinds (`file:`, `v4l2:`, `rtsp://`, `http(s)://`).
 */
export async function openSource(settings: SourceSettings): Promise<FrameSource> {
  const colon = settings.spec.indexOf(':');
  const kind = settings.spec.slice(0, colon);
  const target = settings.spec.slice(colon + 1);

  if (kind === 'webcam') {
    return WebcamSource.open({ device: target, width: settings.width, height: settings.height });
  }
  if (kind === 'image') return DirectorySource.openFile(target, settings.loop);
  if (kind === 'dir') return DirectorySource.open(target, settings.loop);

  // Required here: the ffmpeg source is not loaded by the commands that never need it.
  const { FfmpegSource } = require('./ffmpeg-source') as typeof import('./ffmpeg-source');

  return FfmpegSource.open(settings);
}
