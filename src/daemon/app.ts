import type { Frame } from '../capture/source';
import type { EdgePotholeConfig } from '../config/load';
import type { DetectionMessage, EventMessage, StatsMessage } from '../publish/messages';
import { topicsFor } from '../publish/messages';
import { describeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import { newLoopStats, runFrameLoop, type LoopContext, type LoopStats } from './frame-loop';
import { reloadModel } from './model-reload';
import type { Running } from './running';
import { installSignals } from './signals';
import { initialCameraState, START_STEPS, VERSION } from './start';
import { StatsReporter } from './stats-reporter';
import { percentile } from './stats';
import { stopAll, type StopReason } from './stop';

/**
 * The daemon: the only place that knows every stage. Start steps (start.ts) run in order,
 * the frame loop runs until the source ends or SIGTERM/SIGINT, then the stop steps
 * (stop.ts) undo the start in reverse. Detections and events go through the durable
 * outbox; stats and status go straight to MQTT.
 */

function summary(stats: LoopStats) {
  return { frames: stats.frames, detections: stats.detections, events: stats.events,
    suppressed: stats.suppressed, unreadable: stats.unreadable,
    inferenceMsP50: percentile(stats.inferenceMs, 50),
    inferenceMsP95: percentile(stats.inferenceMs, 95) };
}

async function startAll(running: Running): Promise<void> {
  for (const [name, step] of START_STEPS) {
    try {
      await step(running);
    } catch (err) {
      stageLogger('daemon').error({ step: name, err: describeError(err) }, 'start step failed');
      throw err;
    }
  }
}

/** Publishes an event's message, with its snapshot path when snapshots are on. */
function publishEvent(running: Running, event: EventMessage, peakFrame: Frame): void {
  const { snapshots, config } = running;
  const topic = topicsFor(config.mqtt.topic_prefix, config.vehicle_id).events;
  const message = snapshots ? { ...event, snapshot: snapshots.pathFor(event.event_id) } : event;

  // The message is queued first, in capture order; the JPEG follows on the vehicle's disk.
  queue(running, topic, message);
  snapshots?.save(event.event_id, peakFrame.data).catch((err) => {
    stageLogger('publish').warn({ eventId: event.event_id, err: describeError(err) },
      'snapshot not written');
  });
}

function queue(running: Running, topic: string, payload: DetectionMessage | EventMessage): void {
  running.sender?.send(topic, payload).catch((err) => {
    stageLogger('publish').error({ topic, id: (payload as { id?: string }).id,
      err: describeError(err) }, 'outbox write failed; message lost');
  });
}

function loopContext(running: Running, stopRequested: () => boolean,
  reloadPending: { value: boolean }): LoopContext {
  const { config } = running;
  const topics = topicsFor(config.mqtt.topic_prefix, config.vehicle_id);
  const r = running as Required<Running>;

  return {
    source: r.source, engine: r.engine, model: r.model, vehicleId: config.vehicle_id,
    threshold: config.threshold, positiveLabel: config.positive_label, fps: config.source.fps,
    stopRequested,
    decide: { window: config.decide.window, minFrames: config.decide.min_frames,
      gapFrames: config.decide.gap_frames },
    preprocess: config.preprocess,
    publish: (message) => queue(running, topics.detections, message),
    publishEvent: (event, frame) => publishEvent(running, event, frame),
    locate: running.gps ? () => running.gps?.current() : undefined,
    pauseRequested: () => reloadPending.value,
    betweenFrames: async () => {
      if (!reloadPending.value) return;
      reloadPending.value = false;
      await reloadModel(running);
    },
    onInferred: () => running.notifier?.markProgress(),
  };
}

function startStats(running: Running, stats: LoopStats): void {
  const r = running as Required<Running>;
  const topic = topicsFor(running.config.mqtt.topic_prefix, running.config.vehicle_id).stats;

  running.stats = new StatsReporter(running.config.stats_interval_seconds, () => ({
    nowMs: Date.now(), startedAtMs: running.startedAtMs, loop: stats,
    source: r.source.counters?.() ?? { captured: stats.frames, dropped: 0 },
    outbox: { depth: r.outbox.depth, droppedTotal: r.outbox.droppedTotal },
    backend: `${r.engine.engine}/${r.engine.backend}`, camera: running.camera,
    memory: process.memoryUsage(),
  }), (message: StatsMessage) => {
    // QoS 0: a sample that cannot go now is not worth sending later.
    r.publisher.publishJson(topic, message, { qos: 0 }).catch(() => undefined);
  });
  running.stats.start();
}

/** Resolves to the exit code when the source ends or SIGTERM/SIGINT arrives. */
export async function runDaemon(config: Readonly<EdgePotholeConfig>): Promise<number> {
  const log = stageLogger('daemon');
  const running: Running = { config, startedAtMs: Date.now(),
    camera: initialCameraState(config.source.spec) };
  let stopRequested = false;
  const reloadPending = { value: false };
  const uninstall = installSignals({
    stop: () => {
      stopRequested = true;
      // Unblocks a loop waiting for a frame from a camera that sends none.
      running.source?.close().catch(() => undefined);
    },
    reload: () => {
      reloadPending.value = true;
    },
  });

  let reason: StopReason = 'start failed';
  try {
    await startAll(running);
    const stats = newLoopStats();
    running.loop = { ...loopContext(running, () => stopRequested, reloadPending), stats };
    startStats(running, stats);
    running.notifier?.markReady(`model ${running.model?.ref.name}, source ${config.source.spec}`);
    log.info({ version: VERSION, source: running.source?.description, model: running.model?.ref,
      threshold: config.threshold, stateDir: config.state_dir }, 'daemon started');

    await runFrameLoop(running.loop);
    reason = stopRequested ? 'signal' : 'source ended';
    log.info(summary(stats),
      reason === 'signal' ? 'stopping' : 'source ended; flushing and exiting');
  } catch (err) {
    await stopAll(running, reason);
    throw err;
  } finally {
    uninstall();
  }

  return stopAll(running, reason);
}

