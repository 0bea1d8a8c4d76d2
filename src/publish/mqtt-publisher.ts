import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { stageLogger, type Logger } from '../util/logger';
import { logConnectionChanges, redactUrl } from './connection-log';
import type { DaemonState, DetectionMessage, ModelRef, StatusMessage } from './messages';
import { topicsFor } from './messages';
import { assertTopicPrefix, assertVehicleId } from './topic-names';

/** What the retained status payloads say about this daemon, besides its state. */
export interface StatusInfo {
  /** edge-pothole version, e.g. "0.1.0". */
  version?: string;
  /** Inference backend, e.g. "onnxruntime/cpu" or "tfjs/wasm". */
  backend?: string;
  /** The model in use. */
  model?: ModelRef;
}

export interface MqttPublisherOptions {
  /** Broker URL as MQTT.js accepts it (mqtt://, mqtts://, ws://); default mqtt://127.0.0.1:1883. */
  brokerUrl?: string;
  /** One topic level naming this vehicle: non-empty, no `/`, `+` or `#`. Required. */
  vehicleId: string;
  /** First topic level(s) of every topic; no `+`, `#` or empty level; default `edge-pothole`. */
  topicPrefix?: string;
  /**
   * MQTT client id; default `edge-pothole-<vehicleId>`, stable so that the broker replaces a
   * stale connection of the same vehicle. MQTT 3.1.1 brokers must accept 23 characters;
   * mosquitto and aedes accept longer ones.
   */
  clientId?: string;
  /** User name for the broker; default none. Never logged. */
  username?: string;
  /** Password for the broker; default none. Never logged. */
  password?: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5.0; default 4. */
  protocolVersion?: 4 | 5;
  /** Milliseconds between reconnect attempts (MQTT.js retries by itself); default 2000. */
  reconnectPeriodMs?: number;
  /** Milliseconds to wait for CONNACK before the attempt counts as failed; default 10000. */
  connectTimeoutMs?: number;
  /**
   * Seconds between keepalive pings; default 60. The broker publishes the Last Will after
   * 1.5 times this when the link dies silently (vehicle out of coverage).
   */
  keepaliveSeconds?: number;
  /** Milliseconds `stop()` waits for the broker to acknowledge `stopped`; default 3000. */
  stopTimeoutMs?: number;
  /** Merged into the `online` and `stopped` status payloads; default none. */
  statusInfo?: StatusInfo;
}

/** QoS and retain flag of one publish; defaults QoS 1, not retained. */
export interface PublishOptions {
  /**
   * 1 = at least once, queued while offline (MQTT.js keeps it until PUBACK). 0 = at most
   * once, and rejected while offline: a stale stats sample is not worth sending later.
   */
  qos?: 0 | 1;
  retain?: boolean;
}

const DEFAULT_BROKER_URL = 'mqtt://127.0.0.1:1883';

/**
 * Publishes detections and a presence status for one vehicle. `start()` connects in the
 * background; publishes made while the broker is away are queued and sent after reconnect.
 *
 * Known shortcomings: the queue of unacknowledged QoS 1 messages is MQTT.js's in-memory
 * store, so it is lost if the daemon restarts during an outage, and it has no size limit,
 * so a very long outage costs memory (a detection is under 1 KB; only frames above the
 * threshold are queued). A file-backed store would fix the first; none is wired in yet.
 */
export class MqttPublisher {
  private readonly options: Required<Omit<MqttPublisherOptions, 'username' | 'password'>>;
  private readonly credentials: Pick<MqttPublisherOptions, 'username' | 'password'>;
  private readonly topics: ReturnType<typeof topicsFor>;
  private readonly log: Logger;
  private client: MqttClient | undefined;
  private stopping: Promise<void> | undefined;

  /** Validates the topic parts; throws `EP_CONFIG_INVALID` naming the bad value. */
  constructor(options: MqttPublisherOptions) {
    const topicPrefix = options.topicPrefix ?? 'edge-pothole';
    assertVehicleId(options.vehicleId);
    assertTopicPrefix(topicPrefix);

    this.options = {
      brokerUrl: options.brokerUrl ?? DEFAULT_BROKER_URL,
      vehicleId: options.vehicleId,
      topicPrefix,
      clientId: options.clientId ?? `edge-pothole-${options.vehicleId}`,
      protocolVersion: options.protocolVersion ?? 4,
      reconnectPeriodMs: options.reconnectPeriodMs ?? 2000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      keepaliveSeconds: options.keepaliveSeconds ?? 60,
      stopTimeoutMs: options.stopTimeoutMs ?? 3000,
      statusInfo: options.statusInfo ?? {},
    };
    this.credentials = { username: options.username, password: options.password };
    this.topics = topicsFor(topicPrefix, options.vehicleId);
    this.log = stageLogger('publish');
  }

  /** True while the broker connection is up (CONNACK received). */
  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /**
   * Starts connecting and returns at once. Never throws because the broker is down: MQTT.js
   * keeps retrying every `reconnectPeriodMs` and the daemon keeps detecting meanwhile.
   * Calling it again does nothing; a stopped publisher does not start again.
   */
  start(): void {
    if (this.client) return;

    this.log.info(
      { broker: redactUrl(this.options.brokerUrl), clientId: this.options.clientId },
      'connecting to broker',
    );
    this.client = connect(this.options.brokerUrl, this.clientOptions());
    logConnectionChanges(this.client, this.log, this.options.brokerUrl);
    this.client.on('connect', () => this.announce('online'));
  }

  private clientOptions(): IClientOptions {
    const o = this.options;

    return {
      ...this.credentials,
      clientId: o.clientId,
      protocolVersion: o.protocolVersion,
      reconnectPeriod: o.reconnectPeriodMs,
      connectTimeout: o.connectTimeoutMs,
      keepalive: o.keepaliveSeconds,
      // Retry even after the broker refused us (bad password, id rejected): the broker may be
      // fixed while the vehicle drives, and restarts are systemd's business, not ours.
      reconnectOnConnackError: true,
      // clean: true on purpose. The offline queue is not the broker's session: MQTT.js keeps
      // every unacknowledged QoS 1 publish in its outgoingStore and replays it on each
      // connect whatever `clean` says. A persistent session (clean: false) would only make
      // the broker keep subscriptions and inbound messages for this id, and we subscribe to
      // nothing. A replayed message the broker had already received is a duplicate;
      // subscribers drop it by `id` (QoS 1 is at least once anyway).
      clean: true,
      // Stats at QoS 0 are stale after an outage; failing them is better than a burst.
      queueQoSZero: false,
      will: {
        topic: this.topics.status,
        payload: Buffer.from(JSON.stringify({ state: 'offline' } satisfies StatusMessage)),
        qos: 1,
        retain: true,
      },
    };
  }

  /**
   * Publishes `msg` at QoS 1 on `<prefix>/<vehicle>/detections`. Resolves when the broker
   * acknowledges it (PUBACK), which may be after a reconnect; rejects if `stop()` gives up
   * on it first.
   */
  publishDetection(msg: DetectionMessage): Promise<void> {
    return this.publishJson(this.topics.detections, msg, { qos: 1 });
  }

  /**
   * Publishes `payload` as JSON on `topic` (e.g. `topicsFor(...).stats`). QoS 1 resolves on
   * PUBACK; QoS 0 resolves once written to the socket.
   */
  async publishJson(topic: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    const client = this.client;
    if (!client) throw new Error(`publish to ${topic} before MqttPublisher.start()`);

    const body = JSON.stringify(payload);
    const qos = options.qos ?? 1;
    try {
      await client.publishAsync(topic, body, { qos, retain: options.retain ?? false });
    } catch (err) {
      const why = this.stopping !== undefined ? 'the publisher stopped first' : (err as Error).message;
      throw new Error(`MQTT publish to ${topic} was not acknowledged: ${why}`, { cause: err });
    }
  }

  private statusMessage(state: DaemonState): StatusMessage {
    return { state, ...this.options.statusInfo, at: new Date().toISOString() };
  }

  /** Publishes the retained status; a failure is logged, the next connect tries again. */
  private announce(state: DaemonState): void {
    if (this.stopping !== undefined) return;

    const message = this.statusMessage(state);
    this.publishJson(this.topics.status, message, { qos: 1, retain: true }).catch((err) => {
      this.log.warn({ err, state }, 'status not published');
    });
  }

  /**
   * Publishes the retained `stopped` status, waits up to `stopTimeoutMs` for its PUBACK,
   * then disconnects cleanly so the broker discards the Last Will. Messages still not
   * acknowledged are dropped and their promises rejected; the count is logged.
   */
  stop(): Promise<void> {
    if (!this.client) return Promise.resolve();

    this.stopping ??= this.shutdown(this.client);

    return this.stopping;
  }

  private async shutdown(client: MqttClient): Promise<void> {
    const timeoutMs = this.options.stopTimeoutMs;
    const stopped = this.publishJson(this.topics.status, this.statusMessage('stopped'), {
      qos: 1,
      retain: true,
    });
    const acknowledged = await settlesWithin(stopped, timeoutMs);

    const dropped = dropUnacknowledged(client);
    if (!acknowledged || dropped > 0) {
      this.log.warn({ timeoutMs, dropped, acknowledged }, 'stopped before the broker caught up');
    }

    // A DISCONNECT needs a live link; without one, closing the socket is all there is.
    const ended = client.endAsync(!client.connected);
    if (!(await settlesWithin(ended, timeoutMs))) {
      this.log.warn({ timeoutMs }, 'broker did not close the connection in time');
    }

    this.log.info({}, 'publisher stopped');
  }
}

/** True if `promise` fulfils within `ms`; false if it rejects or takes longer. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });

  try {
    return await Promise.race([promise.then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Removes every publish still waiting for PUBACK; MQTT.js rejects each one's callback.
 * Without this, `end()` would wait for them forever.
 */
function dropUnacknowledged(client: MqttClient): number {
  const ids = Object.keys(client.outgoing).map(Number);
  for (const id of ids) client.removeOutgoingMessage(id);

  return ids.length;
}
