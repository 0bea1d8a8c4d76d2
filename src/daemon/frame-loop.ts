import { setTimeout as sleep } from 'node:timers/promises';

import type { Frame, FrameSource } from '../capture/source';
import type { EventSettings } from '../decide/events';
import { decideFrame } from '../decide/threshold';
import type { InferenceEngine } from '../infer/engine';
import type { LoadedModel } from '../infer/model-dir';
import {
  prepareTiles, type ModelInput, type RegionOfInterest, type TileGrid,
} from '../preprocess/image';
import { detectionPayload } from '../publish/detection-payload';
import type { DetectionMessage, EventMessage, Location } from '../publish/messages';
import { describeError } from '../util/errors';
import { stageLogger, type Logger } from '../util/logger';
import { EventFlow } from './event-flow';

export interface LoopContext {
  source: FrameSource;
  engine: InferenceEngine;
  /** Read at every frame, so the daemon can swap it on SIGHUP. */
  model: LoadedModel;
  vehicleId: string;
  threshold: number;
  positiveLabel: string;
  /** Frames per second to take; 0 = as fast as inference allows. */
  fps: number;
  /** Called for every detection, stamped with its `event_id`. */
  publish: (message: DetectionMessage) => void;
  /** Set by the daemon on SIGTERM: the frame in flight finishes, no new one starts. */
  stopRequested: () => boolean;
  /**
   * Temporal filter (decide/events.ts), without the threshold. Default 1 of 1, gap 1: every
   * frame at or above the threshold is published at once, as a one-frame event.
   */
  decide?: Omit<EventSettings, 'threshold'>;
  /** Called once per closed event, with its peak frame; default: events are not published. */
  publishEvent?: (event: EventMessage, peakFrame: Frame) => void;
  /** The current GPS fix, asked when a frame arrives; default none. */
  locate?: () => Location | undefined;
  /**
   * Awaited before each inference, when no inference runs: the daemon swaps the model
   * here on SIGHUP. Default none.
   */
  betweenFrames?: () => Promise<void>;
  /** True when betweenFrames has work (a model swap): frames in flight finish first. */
  pauseRequested?: () => boolean;
  /** Called after each inference (the systemd watchdog pings only while frames move). */
  onInferred?: () => void;
  /** Counters to update in place while the loop runs (the stats topic reads them). */
  stats?: LoopStats;
  /** Region of interest and tiles (preprocess/image.ts); default the whole frame, one tile. */
  preprocess?: { roi: RegionOfInterest; tiles: TileGrid };
}

/** Inference times kept for percentiles: the most recent ones, so memory stays bounded. */
export const INFERENCE_SAMPLES_KEPT = 10_000;

export interface LoopStats {
  /** Frames taken from the source (read, whether decodable or not). */
  frames: number;
  /** Detections published (frames at or above the threshold that belong to an event). */
  detections: number;
  unreadable: number;
  /** Milliseconds per inference, the last INFERENCE_SAMPLES_KEPT of them. */
  inferenceMs: number[];
  /** Inferences run; inferenceMs holds at most the last INFERENCE_SAMPLES_KEPT. */
  inferences: number;
  events: number;
  /** Frames at or above the threshold that the temporal filter did not turn into an event. */
  suppressed: number;
}

/** Counters at zero, for `LoopContext.stats`. */
export function newLoopStats(): LoopStats {
  return { frames: 0, detections: 0, unreadable: 0, inferenceMs: [], inferences: 0, events: 0,
    suppressed: 0 };
}

interface Prepared {
  frame?: Frame;
  /** One input per tile. */
  inputs?: ModelInput[];
  error?: unknown;
}

/** Milliseconds to wait before asking a failing camera again. */
const SOURCE_RETRY_MS = 1000;

/** Reads and decodes the next frame; never rejects, so the loop decides what a failure means. */
async function fetchNext(context: LoopContext, size: number): Promise<Prepared | undefined> {
  let frame: Frame | undefined;
  try {
    frame = await context.source.next();
  } catch (error) {
    return { error };
  }
  if (!frame) return undefined;

  const location = context.locate?.();
  if (location) frame = { ...frame, location };
  try {
    return { frame, inputs: await prepareTiles(frame.data, frame.source,
      { size, ...context.preprocess }) };
  } catch (error) {
    return { frame, error };
  }
}

/** The tile whose positive score is highest: a pothole in any tile is a pothole in the frame. */
export function mostPositiveTile(tiles: Float32Array[], positive: number):
  { probabilities: Float32Array; tile: number } {
  let tile = 0;
  for (let i = 1; i < tiles.length; i++) if (tiles[i][positive] > tiles[tile][positive]) tile = i;

  return { probabilities: tiles[tile], tile };
}

/**
 * Infers one decoded frame and returns what hands the outcome to the event flow: decisions
 * are taken in capture order even when several frames are inferred at once.
 */
async function inferFrame(context: LoopContext, flow: EventFlow, stats: LoopStats,
  prepared: Required<Pick<Prepared, 'frame' | 'inputs'>>, frameSeq: number):
  Promise<() => void> {
  const model = context.model;
  const startedAt = performance.now();
  const tiles = await context.engine.scores(prepared.inputs.map((input) => input.pixels));
  stats.inferenceMs.push(performance.now() - startedAt);
  if (stats.inferenceMs.length > INFERENCE_SAMPLES_KEPT) stats.inferenceMs.shift();
  stats.inferences += 1;

  return () => {
    const positive = model.labels.indexOf(context.positiveLabel);
    const { probabilities, tile } = mostPositiveTile(tiles, positive);
    const decision = decideFrame(probabilities, model.labels, context.positiveLabel,
      context.threshold);
    const message = decision.detected
      ? detectionPayload(prepared.frame, frameSeq, decision,
        { vehicleId: context.vehicleId, model: model.ref })
      : undefined;
    if (message && tiles.length > 1) message.tile = tile;
    flow.onFrame(prepared.frame, decision.confidence, message);
  };
}

function newFlow(context: LoopContext, log: Logger): EventFlow {
  return new EventFlow({
    settings: { threshold: context.threshold, ...(context.decide ?? {
      window: 1, minFrames: 1, gapFrames: 1 }) },
    publishDetection: (message) => {
      log.info({ frameSeq: message.frame_seq, id: message.id, eventId: message.event_id,
        confidence: Number(message.confidence.toFixed(4)), source: message.source,
        latencyMs: message.latency_ms }, 'pothole detected');
      context.publish(message);
    },
    publishEvent: context.publishEvent,
  });
}

/** Reads frames at the configured rate: each fetch waits for its tick, then reads. */
function pacedFetcher(context: LoopContext, size: number): () => Promise<Prepared | undefined> {
  const intervalMs = context.fps > 0 ? 1000 / context.fps : 0;
  const startedAt = Date.now();
  let ticks = 0;

  // Paced sources are read at their tick, so captured_at and latency_ms are honest.
  return async () => {
    if (intervalMs > 0) await sleep(Math.max(0, startedAt + ticks * intervalMs - Date.now()));
    ticks += 1;

    return fetchNext(context, size);
  };
}

/** What the loop knows between frames. */
interface LoopState {
  context: LoopContext;
  flow: EventFlow;
  stats: LoopStats;
  log: Logger;
  sourceFailing: boolean;
}

/**
 * One fetched frame: a camera failure is logged once per change, then it is inferred. Resolves
 * to what finishes the frame (decide, publish, count), or undefined when there is nothing to.
 */
async function handle(state: LoopState, current: Prepared): Promise<(() => void) | undefined> {
  const { context, stats, log } = state;
  if (!current.frame) {
    if (!state.sourceFailing) {
      log.warn({ source: context.source.description, err: describeError(current.error) },
        'camera failing');
    }
    state.sourceFailing = true;
    await sleep(SOURCE_RETRY_MS);

    return undefined;
  }
  if (state.sourceFailing) log.info({ source: context.source.description }, 'camera recovered');
  state.sourceFailing = false;

  stats.frames += 1;
  if (!current.inputs) {
    stats.unreadable += 1;
    log.warn({ source: current.frame.source, err: describeError(current.error) },
      'frame skipped');

    return undefined;
  }

  await context.betweenFrames?.();
  const decide = await inferFrame(context, state.flow, stats,
    { frame: current.frame, inputs: current.inputs }, stats.frames);

  return () => {
    decide();
    context.onInferred?.();
    Object.assign(stats, state.flow.counts);
  };
}

/**
 * Pulls frames, classifies them and hands detections and events to the context. The next
 * frame is read and decoded while the current one is inferred. Returns when a finite
 * source ends or a stop is requested; an open event is closed then. An unreadable frame
 * is counted and skipped; a failing camera is logged once per change and asked again.
 */
export async function runFrameLoop(context: LoopContext): Promise<LoopStats> {
  const log = stageLogger('decide');
  const state: LoopState = { context, log, stats: context.stats ?? newLoopStats(),
    flow: newFlow(context, log), sourceFailing: false };
  const fetchAtNextTick = pacedFetcher(context, context.engine.backbone.inputSize);

  // As many frames in flight as the engine works on at once (tfjs-wasm workers; 1 otherwise),
  // finished oldest first so decisions and messages keep capture order.
  const depth = Math.max(1, context.engine.workers);
  const inflight: Array<Promise<(() => void) | undefined>> = [];
  const finishOldest = async () => (await inflight.shift())?.();

  let upcoming = fetchAtNextTick();
  while (!context.stopRequested()) {
    const current = await upcoming;
    if (!current) break;
    upcoming = context.stopRequested() ? Promise.resolve(undefined) : fetchAtNextTick();

    // A model swap (SIGHUP) runs with no inference in flight.
    if (context.pauseRequested?.()) while (inflight.length > 0) await finishOldest();
    const job = handle(state, current);
    // Its failure surfaces when finishOldest awaits it; until then it must not count as an
    // unhandled rejection, which would end the process before the orderly stop.
    job.catch(() => undefined);
    inflight.push(job);
    if (inflight.length >= depth) await finishOldest();
  }
  while (inflight.length > 0) await finishOldest();
  await upcoming;
  state.flow.finish();

  return Object.assign(state.stats, state.flow.counts);
}
