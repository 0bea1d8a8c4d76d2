import type { FrameSource } from '../capture/source';
import type { GpsdClient } from '../capture/gpsd-client';
import type { EdgePotholeConfig } from '../config/load';
import type { InferenceEngine } from '../infer/engine';
import type { LoadedModel } from '../infer/model-dir';
import type { EmbeddedBroker } from '../publish/embedded-broker';
import type { CameraState } from '../publish/messages';
import type { MqttPublisher } from '../publish/mqtt-publisher';
import type { Outbox } from '../publish/outbox';
import type { OutboxSender } from '../publish/outbox-sender';
import type { SnapshotStore } from '../publish/snapshot-store';
import type { LoopContext } from './frame-loop';
import type { StatsReporter } from './stats-reporter';
import type { SystemdNotifier } from './systemd-notify';

/**
 * Everything the daemon started, so that `stop` can undo it in reverse order, and the
 * runtime state that changes while it runs (the model after SIGHUP, the camera's state).
 * The configuration itself stays frozen.
 */
export interface Running {
  readonly config: Readonly<EdgePotholeConfig>;
  readonly startedAtMs: number;
  model?: LoadedModel;
  engine?: InferenceEngine;
  broker?: EmbeddedBroker;
  outbox?: Outbox;
  publisher?: MqttPublisher;
  sender?: OutboxSender;
  gps?: GpsdClient;
  snapshots?: SnapshotStore;
  source?: FrameSource;
  stats?: StatsReporter;
  notifier?: SystemdNotifier;
  /** The frame loop's context, once it runs (SIGHUP swaps its model). */
  loop?: LoopContext;
  camera: CameraState;
}
