import type { CameraState } from '../publish/messages';

/**
 * The capture watchdog's decisions, as pure functions of times and counts: when a capture
 * counts as stalled, how long to wait before the next restart, and which state to report
 * after the capture process ended.
 */

/** First and longest wait before restarting a capture, milliseconds. */
export const FIRST_RESTART_MS = 1000;
export const MAX_RESTART_MS = 30_000;

/** True when no frame came for `stallMs` since the last frame (or the start). */
export function isStalled(lastFrameAtMs: number, nowMs: number, stallMs: number): boolean {
  return nowMs - lastFrameAtMs >= stallMs;
}

/** Wait before restart number `attempt` (1, 2, ...): doubling from 1 s, at most 30 s. */
export function restartDelayMs(attempt: number): number {
  return Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** Math.max(0, attempt - 1));
}

export interface CaptureEnd {
  /** The input ends by itself (a video file without loop). */
  finite: boolean;
  /** ffmpeg's exit code; null when a signal ended it. */
  exitCode: number | null;
  /** The watchdog killed it for want of frames. */
  killedForStall: boolean;
  /** Frames it delivered before it ended. */
  frames: number;
  /** We are closing the source ourselves. */
  closing: boolean;
}

/**
 * What an ended capture means: `ended` for a finished file or our own close; `stalled`
 * when the watchdog killed it; `unavailable` when it gave no frame at all (device or
 * stream missing), else `stalled` (it delivered, then broke off).
 */
export function stateAfterExit(end: CaptureEnd): CameraState {
  if (end.closing) return 'ended';
  if (end.finite && end.exitCode === 0 && !end.killedForStall) return 'ended';
  if (end.killedForStall) return 'stalled';

  return end.frames === 0 ? 'unavailable' : 'stalled';
}
