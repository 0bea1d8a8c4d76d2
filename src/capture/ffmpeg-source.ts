import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

import type { CameraState } from '../publish/messages';
import { EdgePotholeError } from '../util/errors';
import { isStalled, restartDelayMs, stateAfterExit } from './capture-watchdog';
import { ffmpegPlan, type FfmpegPlan } from './ffmpeg-args';
import { LatestFrameSlot } from './latest-frame';
import { MjpegSplitter } from './mjpeg-splitter';
import type { SourceSettings } from './open-source';
import type { Frame, FrameSource, SourceCounters } from './source';

/**
 * A camera read through ONE long-running ffmpeg process that writes MJPEG frames of the
 * configured size and rate to a pipe (not one process per frame). The newest frame waits
 * in a one-slot buffer for the loop. A watchdog restarts ffmpeg with backoff when no frame
 * came for `stall_seconds`, or when it exits; a missing device is retried until it returns.
 * Each change of state goes to the listeners (the daemon logs it and puts it in status).
 *
 * MJPEG rather than raw RGB: the loop's preprocessing decodes encoded frames with sharp,
 * snapshots want a JPEG anyway, and a 1280x720 JPEG is a tenth of the raw bytes on the pipe.
 */

/** Milliseconds a `-version` probe of the ffmpeg binary may take. */
const PROBE_TIMEOUT_MS = 10_000;
/** Milliseconds between SIGTERM and SIGKILL when closing. */
const KILL_GRACE_MS = 2000;
/** Characters of ffmpeg's stderr kept to explain a failure. */
const STDERR_TAIL_CHARS = 500;

function probeBinary(binary: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-hide_banner', '-version'], { timeout: PROBE_TIMEOUT_MS }, (err) => {
      if (!err) return resolve();
      reject(new EdgePotholeError('EP_SOURCE_INVALID', `ffmpeg executable "${binary}" cannot ` +
        `run (${(err as NodeJS.ErrnoException).code ?? err.message}); install it ` +
        '(apt-get install ffmpeg) or set source.ffmpeg to its path', { cause: err }));
    });
  });
}

export class FfmpegSource implements FrameSource {
  readonly description: string;
  private readonly slot = new LatestFrameSlot();
  private readonly listeners: Array<(state: CameraState, detail?: string) => void> = [];
  private child: ChildProcess | undefined;
  private state: CameraState = 'starting';
  private stateDetail: string | undefined;
  private failedStarts = 0;
  private lastFrameAtMs = Date.now();
  private framesThisRun = 0;
  private warmupLeft = 0;
  private killedForStall = false;
  private closing = false;
  private stderrTail = '';
  private watchdog: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(private readonly plan: FfmpegPlan, private readonly binary: string,
    private readonly stallMs: number, private readonly warmupFrames: number) {
    this.description = plan.description;
  }

  /** Checks the spec and the ffmpeg binary, then starts capturing in the background. */
  static async open(settings: SourceSettings): Promise<FfmpegSource> {
    const plan = ffmpegPlan(settings.spec, { width: settings.width, height: settings.height,
      fps: settings.fps ?? 0, loop: settings.loop });
    const binary = settings.ffmpeg ?? 'ffmpeg';
    if (plan.kind === 'file' && !existsSync(plan.description.slice('file:'.length))) {
      throw new EdgePotholeError('EP_SOURCE_INVALID', `source ${settings.spec}: the video file ` +
        'does not exist; give file:PATH of a video ffmpeg can read');
    }
    await probeBinary(binary);

    const source = new FfmpegSource(plan, binary, (settings.stall_seconds ?? 20) * 1000,
      settings.warmup_frames ?? 0);
    source.launch();

    return source;
  }

  next(): Promise<Frame | undefined> {
    return this.slot.take();
  }

  counters(): SourceCounters {
    return { captured: this.slot.captured, dropped: this.slot.dropped };
  }

  /** Also tells a late listener the state reached so far, unless still `starting`. */
  onStateChange(listener: (state: CameraState, detail?: string) => void): void {
    this.listeners.push(listener);
    if (this.state !== 'starting') listener(this.state, this.stateDetail);
  }

  /** Stops ffmpeg (SIGTERM, then SIGKILL) and ends the frames; waits for its exit. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdog);
    this.slot.end();

    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  private setState(state: CameraState, detail?: string): void {
    if (state === this.state) return;

    this.state = state;
    this.stateDetail = detail;
    this.listeners.forEach((listener) => listener(state, detail));
  }

  private launch(): void {
    if (this.closing) return;
    if (this.plan.device && !existsSync(this.plan.device)) {
      this.setState('unavailable', `${this.plan.device} does not exist (unplugged?)`);
      this.scheduleRestart();

      return;
    }

    this.framesThisRun = 0;
    this.warmupLeft = this.warmupFrames;
    this.killedForStall = false;
    this.lastFrameAtMs = Date.now();
    this.stderrTail = '';
    const child = spawn(this.binary, this.plan.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', (code) => {
      this.onExit(code);
      resolve();
    }));
    this.watch(child);
  }

  private watch(child: ChildProcess): void {
    const splitter = new MjpegSplitter();
    child.stdout?.on('data', (chunk: Buffer) => {
      splitter.push(chunk).forEach((frame) => this.onFrame(frame));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
    });
    // A spawn failure (binary removed since the probe) also ends in 'close'.
    child.on('error', (err) => {
      this.stderrTail = err.message;
    });

    const checkEveryMs = Math.max(100, Math.min(1000, this.stallMs / 4));
    this.watchdog = setInterval(() => {
      if (!isStalled(this.lastFrameAtMs, Date.now(), this.stallMs)) return;
      this.killedForStall = true;
      child.kill('SIGKILL');
    }, checkEveryMs);
  }

  private onFrame(data: Buffer): void {
    this.lastFrameAtMs = Date.now();
    this.framesThisRun += 1;
    if (this.warmupLeft > 0) {
      this.warmupLeft -= 1;

      return;
    }

    this.failedStarts = 0;
    this.setState('running');
    this.slot.put({ data, capturedAt: new Date(), source: this.description });
  }

  private onExit(exitCode: number | null): void {
    clearInterval(this.watchdog);
    const state = stateAfterExit({ finite: this.plan.finite, exitCode, frames: this.framesThisRun,
      killedForStall: this.killedForStall, closing: this.closing });
    const detail = this.killedForStall
      ? `no frame for ${this.stallMs / 1000} s`
      : this.stderrTail.trim().split('\n').at(-1) || `ffmpeg exited with code ${exitCode}`;
    this.setState(state, detail);
    if (state === 'ended') {
      this.slot.end();

      return;
    }

    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.failedStarts += 1;
    this.restartTimer = setTimeout(() => this.launch(), restartDelayMs(this.failedStarts));
  }
}
