import type { SourceCounters } from '../capture/source';
import type { CameraState, StatsMessage } from '../publish/messages';
import type { LoopStats } from './frame-loop';
import { percentile } from './stats';

/**
 * The `stats` message, every `stats_interval_seconds`. Rates and percentiles cover the
 * interval since the previous sample; counters run since start.
 */

/** What one sample is computed from; everything the daemon knows at that moment. */
export interface StatsInputs {
  nowMs: number;
  startedAtMs: number;
  loop: Readonly<LoopStats>;
  source: SourceCounters;
  outbox: { depth: number; droppedTotal: number };
  backend: string;
  camera: CameraState;
  memory: { rss: number; heapUsed: number };
}

/** The previous sample's counters, to compute rates over the interval. */
export interface StatsMark {
  atMs: number;
  captured: number;
  inferences: number;
}

function perSecond(count: number, ms: number): number {
  return ms > 0 ? Number(((count * 1000) / ms).toFixed(2)) : 0;
}

/** One stats message and the mark for the next; pure. */
export function statsSample(inputs: StatsInputs, previous: StatsMark):
{ message: StatsMessage; mark: StatsMark } {
  const { loop, source } = inputs;
  const intervalMs = inputs.nowMs - previous.atMs;
  const newInferences = Math.min(loop.inferences - previous.inferences, loop.inferenceMs.length);
  const recent = newInferences > 0 ? loop.inferenceMs.slice(-newInferences) : [];

  const message: StatsMessage = {
    at: new Date(inputs.nowMs).toISOString(),
    uptime_seconds: Math.round((inputs.nowMs - inputs.startedAtMs) / 1000),
    capture_fps: perSecond(source.captured - previous.captured, intervalMs),
    inference_fps: perSecond(loop.inferences - previous.inferences, intervalMs),
    inference_ms_p50: percentile(recent, 50) ?? null,
    inference_ms_p95: percentile(recent, 95) ?? null,
    frames_total: loop.frames,
    dropped_frames_total: source.dropped,
    unreadable_frames_total: loop.unreadable,
    detections_total: loop.detections,
    events_total: loop.events,
    suppressed_frames_total: loop.suppressed,
    outbox_depth: inputs.outbox.depth,
    outbox_dropped_total: inputs.outbox.droppedTotal,
    backend: inputs.backend,
    camera: inputs.camera,
    memory_rss_bytes: inputs.memory.rss,
    memory_heap_used_bytes: inputs.memory.heapUsed,
  };

  return { message, mark: { atMs: inputs.nowMs, captured: source.captured,
    inferences: loop.inferences } };
}

/** Calls `collect` and `publish` every `intervalSeconds` until stopped. */
export class StatsReporter {
  private timer: NodeJS.Timeout | undefined;
  private mark: StatsMark;

  constructor(
    private readonly intervalSeconds: number,
    private readonly collect: () => StatsInputs,
    private readonly publish: (message: StatsMessage) => void,
  ) {
    this.mark = { atMs: Date.now(), captured: 0, inferences: 0 };
  }

  start(): void {
    if (this.intervalSeconds <= 0) return;

    this.timer = setInterval(() => this.tick(), this.intervalSeconds * 1000);
    // Stats alone must not keep a finished daemon alive.
    this.timer.unref();
  }

  /** Publishes one sample now (also used on stop, so short runs report too). */
  tick(): void {
    const { message, mark } = statsSample(this.collect(), this.mark);
    this.mark = mark;
    this.publish(message);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
