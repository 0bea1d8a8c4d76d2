import { openSource } from '../capture/open-source';
import type { FrameSource } from '../capture/source';
import type { EdgePotholeConfig } from '../config/load';
import { createEngine } from '../infer/create-engine';
import type { InferenceEngine } from '../infer/engine';
import { loadModelDir, type LoadedModel } from '../infer/model-dir';
import { startEmbeddedBrokerIfAbsent, type EmbeddedBroker } from '../publish/embedded-broker';
import type { DetectionMessage } from '../publish/messages';
import { MqttPublisher } from '../publish/mqtt-publisher';
import { describeError, EdgePotholeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import { runFrameLoop, type LoopStats } from './frame-loop';
import { percentile } from './stats';

const VERSION = (require('../../../package.json') as { version: string }).version;

/** How long a finite source's end waits for unacknowledged detections, in milliseconds. */
const DRAIN_TIMEOUT_MS = 30_000;

/** Everything the daemon started, so `stop` can undo it in reverse order. */
interface Running {
  model?: LoadedModel;
  engine?: InferenceEngine;
  broker?: EmbeddedBroker;
  publisher?: MqttPublisher;
  source?: FrameSource;
  pending: Set<Promise<void>>;
}

function loopbackPort(url: string): { host: '127.0.0.1'; port: number } | undefined {
  const parsed = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(parsed.hostname)) return undefined;

  return { host: '127.0.0.1', port: Number(parsed.port || 1883) };
}

/** Start-up as a flat list of named steps; each adds what it started to `running`. */
async function start(config: Readonly<EdgePotholeConfig>, running: Running): Promise<void> {
  const log = stageLogger('daemon');

  running.model = await loadModelDir(config.model);
  if (!running.model.labels.includes(config.positive_label)) {
    throw new EdgePotholeError('EP_CONFIG_INVALID', `positive_label "${config.positive_label}" is not a label ` +
      `of model ${running.model.dir} (${running.model.labels.join(', ')})`);
  }

  running.engine = await createEngine({
    engine: config.infer.engine,
    threads: config.infer.threads || undefined,
    layer: running.model.metadata.backbone.layer,
    head: running.model.head,
  });
  if (running.engine.backbone.fingerprint !== running.model.metadata.backbone.fingerprint) {
    log.warn({ model: running.model.dir }, 'model was trained on a different backbone build; retrain it');
  }

  if (config.mqtt.embedded_broker) {
    const loopback = loopbackPort(config.mqtt.url);
    if (!loopback) throw new EdgePotholeError('EP_CONFIG_INVALID', `mqtt.embedded_broker needs a loopback ` +
      `mqtt.url, got "${config.mqtt.url}"`);
    running.broker = await startEmbeddedBrokerIfAbsent(loopback);
  }

  running.publisher = new MqttPublisher({
    brokerUrl: config.mqtt.url,
    vehicleId: config.vehicle_id,
    topicPrefix: config.mqtt.topic_prefix,
    username: config.mqtt.username || undefined,
    password: config.mqtt.password || undefined,
    statusInfo: { version: VERSION, backend: `${running.engine.engine}/${running.engine.backend}`,
      model: running.model.ref },
  });
  running.publisher.start();

  running.source = await openSource(config.source);
  log.info({ version: VERSION, source: running.source.description, model: running.model.ref,
    engine: running.engine.engine, backend: running.engine.backend, threads: running.engine.threads,
    threshold: config.threshold }, 'daemon started');
}

async function drain(pending: Set<Promise<void>>, timeoutMs: number): Promise<number> {
  const deadline = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
  await Promise.race([Promise.allSettled([...pending]), deadline]);

  return pending.size;
}

/** Stops in reverse order; each step's failure is logged and turns the exit code to 1. */
async function stop(running: Running): Promise<number> {
  const log = stageLogger('daemon');
  let exitCode = 0;
  const steps: Array<[string, () => Promise<unknown>]> = [
    ['source', async () => running.source?.close()],
    ['drain', async () => {
      const left = await drain(running.pending, DRAIN_TIMEOUT_MS);
      if (left > 0) log.warn({ unacknowledged: left }, 'detections not acknowledged by the broker');
    }],
    ['mqtt', async () => running.publisher?.stop()],
    ['broker', async () => running.broker?.close()],
    ['engine', async () => running.engine?.dispose()],
  ];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      exitCode = 1;
      log.error({ step: name, err: describeError(err) }, 'stop step failed');
    }
  }

  return exitCode;
}

function summary(stats: LoopStats) {
  return { frames: stats.frames, detections: stats.detections, unreadable: stats.unreadable,
    inferenceMsP50: percentile(stats.inferenceMs, 50), inferenceMsP95: percentile(stats.inferenceMs, 95) };
}

/**
 * The daemon: the only place that knows every stage. Resolves to the exit code when the
 * source ends or SIGTERM/SIGINT arrives.
 */
export async function runDaemon(config: Readonly<EdgePotholeConfig>): Promise<number> {
  const log = stageLogger('daemon');
  const running: Running = { pending: new Set() };
  let stopRequested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'stop requested');
    stopRequested = true;
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await start(config, running);
    const { source, engine, model, publisher } = running as Required<Running>;
    const stats = await runFrameLoop({
      source, engine, model, vehicleId: config.vehicle_id, threshold: config.threshold,
      positiveLabel: config.positive_label, fps: config.source.fps,
      stopRequested: () => stopRequested,
      publish: (message: DetectionMessage) => {
        const sent = publisher.publishDetection(message).catch((err) => {
          log.warn({ id: message.id, err: describeError(err) }, 'detection not delivered');
        }).finally(() => running.pending.delete(sent));
        running.pending.add(sent);
      },
    });
    log.info(summary(stats), stopRequested ? 'stopping' : 'source ended; flushing and exiting');
  } catch (err) {
    await stop(running);
    throw err;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }

  return stop(running);
}
