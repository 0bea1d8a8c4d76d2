import { setTimeout as sleep } from 'node:timers/promises';

import type { Frame, FrameSource } from '../capture/source';
import { decideFrame } from '../decide/threshold';
import type { InferenceEngine } from '../infer/engine';
import type { LoadedModel } from '../infer/model-dir';
import { prepareImage, type ModelInput } from '../preprocess/image';
import { detectionPayload } from '../publish/detection-payload';
import type { DetectionMessage } from '../publish/messages';
import { describeError } from '../util/errors';
import { stageLogger } from '../util/logger';

export interface LoopContext {
  source: FrameSource;
  engine: InferenceEngine;
  model: LoadedModel;
  vehicleId: string;
  threshold: number;
  positiveLabel: string;
  /** Frames per second to take; 0 = as fast as inference allows. */
  fps: number;
  publish: (message: DetectionMessage) => void;
  /** Set by the daemon on SIGTERM: the frame in flight finishes, no new one starts. */
  stopRequested: () => boolean;
}

export interface LoopStats {
  frames: number;
  detections: number;
  unreadable: number;
  inferenceMs: number[];
}

interface Prepared {
  frame?: Frame;
  input?: ModelInput;
  error?: unknown;
}

/** Seconds to wait before asking a failing camera again. */
const SOURCE_RETRY_MS = 1000;

/** Reads and decodes the next frame; never rejects, so the loop decides what a failure means. */
async function fetchNext(source: FrameSource, size: number): Promise<Prepared | undefined> {
  let frame: Frame | undefined;
  try {
    frame = await source.next();
  } catch (error) {
    return { error };
  }
  if (!frame) return undefined;

  try {
    return { frame, input: await prepareImage(frame.data, frame.source, { size }) };
  } catch (error) {
    return { frame, error };
  }
}

/**
 * Pulls frames, classifies them and hands detections to `publish`. The next frame is read and
 * decoded while the current one is inferred. Returns when a finite source ends or a stop is
 * requested. An unreadable frame is logged and skipped.
 */
export async function runFrameLoop(context: LoopContext): Promise<LoopStats> {
  const log = stageLogger('decide');
  const stats: LoopStats = { frames: 0, detections: 0, unreadable: 0, inferenceMs: [] };
  const size = context.engine.backbone.inputSize;
  const intervalMs = context.fps > 0 ? 1000 / context.fps : 0;
  const startedAt = Date.now();

  // Paced sources are read at their tick, so captured_at and latency_ms are honest.
  let ticks = 0;
  const fetchAtNextTick = async () => {
    if (intervalMs > 0) await sleep(Math.max(0, startedAt + ticks * intervalMs - Date.now()));
    ticks += 1;

    return fetchNext(context.source, size);
  };

  let upcoming = fetchAtNextTick();
  let sourceFailing = false;
  while (!context.stopRequested()) {
    const current = await upcoming;
    if (!current) break;
    upcoming = context.stopRequested() ? Promise.resolve(undefined) : fetchAtNextTick();

    if (!current.frame) {
      // Logged once per change of state, not once per retry.
      if (!sourceFailing) {
        log.warn({ source: context.source.description, err: describeError(current.error) }, 'camera failing');
      }
      sourceFailing = true;
      await sleep(SOURCE_RETRY_MS);
      continue;
    }
    if (sourceFailing) log.info({ source: context.source.description }, 'camera recovered');
    sourceFailing = false;

    stats.frames += 1;
    const frameSeq = stats.frames;
    if (!current.input) {
      stats.unreadable += 1;
      log.warn({ source: current.frame.source, err: describeError(current.error) }, 'frame skipped');
      continue;
    }

    const inferStartedAt = performance.now();
    const [probabilities] = await context.engine.scores([current.input.pixels]);
    stats.inferenceMs.push(performance.now() - inferStartedAt);

    const decision = decideFrame(probabilities, context.model.labels, context.positiveLabel, context.threshold);
    if (decision.detected) {
      stats.detections += 1;
      const message = detectionPayload(current.frame, frameSeq, decision,
        { vehicleId: context.vehicleId, model: context.model.ref });
      log.info({ frameSeq, id: message.id, confidence: Number(decision.confidence.toFixed(4)),
        source: current.frame.source, latencyMs: message.latency_ms }, 'pothole detected');
      context.publish(message);
    }
  }
  await upcoming;

  return stats;
}
