import path from 'node:path';

import { EdgePotholeError } from '../util/errors';

/**
 * The ffmpeg command line of a camera spec: pure, so what reaches ffmpeg is tested without
 * running it. ffmpeg is spawned without a shell, each value one argument; a spec that does
 * not match its kind's pattern is refused before anything runs.
 */

export type FfmpegKind = 'file' | 'v4l2' | 'rtsp' | 'http';

export interface FfmpegPlan {
  kind: FfmpegKind;
  /** For logs and the status topic; credentials in a URL are masked. */
  description: string;
  /** The device for v4l2 (checked for existence before each start), else undefined. */
  device?: string;
  /** True when the input ends by itself (a video file without loop). */
  finite: boolean;
  args: string[];
}

export interface FfmpegFrameSettings {
  /** Output size in pixels. */
  width: number;
  height: number;
  /** Output frames per second; 0 = the input's own rate. */
  fps: number;
  /** Replay a video file forever. */
  loop: boolean;
}

const DEVICE_PATTERN = /^\/dev\/video\d{1,3}$/;

function invalid(spec: string, why: string): EdgePotholeError {
  return new EdgePotholeError('EP_SOURCE_INVALID', `source ${spec}: ${why}`);
}

/** `url` without its password, for logs. */
export function maskUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';

  return copy.href;
}

function inputArgs(spec: string, settings: FfmpegFrameSettings):
Omit<FfmpegPlan, 'args'> & { input: string[] } {
  if (spec.startsWith('file:')) {
    const file = path.resolve(spec.slice('file:'.length));
    // "file:" tells ffmpeg this is a plain file, not one of its pseudo-protocols.
    return { kind: 'file', description: `file:${file}`, finite: !settings.loop,
      input: [...(settings.loop ? ['-stream_loop', '-1'] : []), '-re', '-i', `file:${file}`] };
  }
  if (spec.startsWith('v4l2:')) {
    const device = spec.slice('v4l2:'.length);
    if (!DEVICE_PATTERN.test(device)) throw invalid(spec, 'give a device like v4l2:/dev/video0');
    const rate = settings.fps > 0 ? ['-framerate', String(settings.fps)] : [];

    return { kind: 'v4l2', description: spec, device, finite: false,
      input: ['-f', 'v4l2', ...rate, '-i', device] };
  }

  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw invalid(spec, 'is not a valid URL');
  }
  if (url.protocol === 'rtsp:' || url.protocol === 'rtsps:') {
    return { kind: 'rtsp', description: maskUrl(url), finite: false,
      input: ['-rtsp_transport', 'tcp', '-i', url.href] };
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    return { kind: 'http', description: maskUrl(url), finite: false, input: ['-i', url.href] };
  }

  throw invalid(spec, 'use file:, v4l2:, rtsp:// or http(s)://');
}

/** The plan for `spec`; throws EP_SOURCE_INVALID naming the spec and what is expected. */
export function ffmpegPlan(spec: string, settings: FfmpegFrameSettings): FfmpegPlan {
  const { input, ...plan } = inputArgs(spec, settings);
  const filters = [...(settings.fps > 0 ? [`fps=${settings.fps}`] : []),
    `scale=${settings.width}:${settings.height}`];

  return {
    ...plan,
    args: ['-hide_banner', '-loglevel', 'error', '-nostdin', ...input, '-an',
      '-vf', filters.join(','), '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1'],
  };
}
