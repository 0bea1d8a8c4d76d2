import { GpsdClient } from '../capture/gpsd-client';
import { openSource } from '../capture/open-source';
import { readMqttSecrets } from '../config/secrets';
import { createEngine } from '../infer/create-engine';
import { loadModelDir, type LoadedModel } from '../infer/model-dir';
import { startEmbeddedBrokerIfAbsent } from '../publish/embedded-broker';
import type { CameraState } from '../publish/messages';
import { MqttPublisher } from '../publish/mqtt-publisher';
import { Outbox } from '../publish/outbox';
import { OutboxSender } from '../publish/outbox-sender';
import { SnapshotStore } from '../publish/snapshot-store';
import { EdgePotholeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import type { Running } from './running';
import { SystemdNotifier } from './systemd-notify';

export const VERSION = (require('../../../package.json') as { version: string }).version;

/** Milliseconds the publisher waits for `stopped` to be acknowledged, and for the close. */
const PUBLISHER_STOP_TIMEOUT_MS = 2000;

/** A start step: a name for the log and the exit code, and what it does. */
export type Step = [string, (running: Running) => Promise<unknown>];

function loopbackPort(url: string): { host: '127.0.0.1'; port: number } | undefined {
  const parsed = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(parsed.hostname)) return undefined;

  return { host: '127.0.0.1', port: Number(parsed.port || 1883) };
}

/**
 * The camera state announced with the first `online`: sources read on demand (dir:,
 * image:, webcam:) have no state of their own and count as running; ffmpeg sources start.
 */
export function initialCameraState(spec: string): CameraState {
  return /^(dir|image|webcam):/.test(spec) ? 'running' : 'starting';
}

/** Loads a model directory and checks it can serve this configuration's positive label. */
export async function loadCheckedModel(dir: string, positiveLabel: string): Promise<LoadedModel> {
  const model = await loadModelDir(dir);
  if (!model.labels.includes(positiveLabel)) {
    throw new EdgePotholeError('EP_CONFIG_INVALID', `positive_label "${positiveLabel}" is not a ` +
      `label of model ${model.dir} (${model.labels.join(', ')}); set positive_label to one ` +
      'of them');
  }

  return model;
}

async function startEngine(running: Running): Promise<void> {
  const { config } = running;
  const model = running.model as LoadedModel;
  running.engine = await createEngine({ engine: config.infer.engine,
    threads: config.infer.threads || undefined, workers: config.infer.workers || undefined,
    graphWeights: config.infer.graph_weights === 'auto' ? undefined : config.infer.graph_weights,
    layer: model.metadata.backbone.layer,
    head: model.head });
  if (running.engine.backbone.fingerprint !== model.metadata.backbone.fingerprint) {
    stageLogger('daemon').warn({ model: model.dir },
      'model was trained on a different backbone build; retrain it');
  }
}

async function startBroker(running: Running): Promise<void> {
  const { url, embedded_broker: wanted } = running.config.mqtt;
  if (!wanted) return;

  const loopback = loopbackPort(url);
  if (!loopback) {
    throw new EdgePotholeError('EP_CONFIG_INVALID', `mqtt.embedded_broker needs a loopback ` +
      `mqtt.url, got "${url}"`);
  }
  running.broker = await startEmbeddedBrokerIfAbsent(loopback);
}

async function startPublisher(running: Running): Promise<void> {
  const { config } = running;
  const secrets = await readMqttSecrets(config.mqtt);
  const model = running.model as LoadedModel;
  const engine = running.engine as NonNullable<Running['engine']>;

  running.publisher = new MqttPublisher({
    brokerUrl: config.mqtt.url, vehicleId: config.vehicle_id,
    topicPrefix: config.mqtt.topic_prefix, protocolVersion: config.mqtt.protocol_version,
    ...secrets, reconnectMaxMs: config.mqtt.reconnect_max_seconds * 1000,
    stopTimeoutMs: PUBLISHER_STOP_TIMEOUT_MS,
    statusInfo: { version: VERSION, backend: `${engine.engine}/${engine.backend}`,
      model: model.ref },
  });
  running.publisher.updateStatus({ camera: running.camera });
  running.publisher.start();
}

async function startOutbox(running: Running): Promise<void> {
  const { config } = running;
  running.outbox = await Outbox.open({ stateDir: config.state_dir,
    maxMessages: config.outbox.max_messages, maxAgeSeconds: config.outbox.max_age_seconds });
}

async function startSender(running: Running): Promise<void> {
  const sender = new OutboxSender(running.outbox as Outbox, running.publisher as MqttPublisher,
    { ratePerSecond: running.config.outbox.replay_per_second });
  running.sender = sender;
  sender.start();
}

async function startExtras(running: Running): Promise<void> {
  const { gps, snapshot, state_dir: stateDir } = running.config;
  if (gps.host) {
    running.gps = new GpsdClient({ host: gps.host, port: gps.port,
      maxAgeMs: gps.max_age_seconds * 1000 });
    running.gps.start();
  }
  if (snapshot.max_count > 0) {
    running.snapshots = await SnapshotStore.open(stateDir, { maxCount: snapshot.max_count,
      maxBytes: snapshot.max_bytes });
  }
}

async function startSource(running: Running): Promise<void> {
  const log = stageLogger('capture');
  const source = await openSource(running.config.source);
  running.source = source;

  source.onStateChange?.((state: CameraState, detail?: string) => {
    running.camera = state;
    // A camera that ended is followed by `stopped`, which carries it: no `online` between.
    running.publisher?.updateStatus({ camera: state }, state !== 'ended');
    const level = state === 'running' || state === 'ended' ? 'info' : 'warn';
    log[level]({ source: source.description, state, detail }, 'camera state changed');
  });
}

/** Start-up as a flat list of named steps; each adds what it started to `running`. */
export const START_STEPS: Step[] = [
  ['model', async (r) => {
    r.model = await loadCheckedModel(r.config.model, r.config.positive_label);
  }],
  ['engine', startEngine],
  ['embedded broker', startBroker],
  ['outbox', startOutbox],
  ['mqtt', startPublisher],
  ['sender', startSender],
  ['gps and snapshots', startExtras],
  ['source', startSource],
  ['systemd', async (r) => {
    r.notifier = new SystemdNotifier();
  }],
];
