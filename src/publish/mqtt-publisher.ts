import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { stageLogger, type Logger } from '../util/logger';
import { logConnectionChanges, redactUrl } from './connection-log';
import {
  backOffReconnects, clientOptions, type ResolvedPublisherOptions,
} from './mqtt-client-options';
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
  /**
   * Milliseconds before the first reconnect attempt; doubles after each failed attempt up
   * to `reconnectMaxMs`, and starts over after a successful connect. Default 1000.
   */
  reconnectPeriodMs?: number;
  /** Longest wait between reconnect attempts, milliseconds; default 30000. */
  reconnectMaxMs?: number;
  /** TLS material for mqtts://, PEM contents (not paths); default none. Never logged. */
  tls?: TlsMaterial;
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

/** PEM contents for TLS; read from files by the caller. */
export interface TlsMaterial {
  /** CA certificate(s) that signed the broker's certificate. */
  ca?: Buffer;
  /** Client certificate and its private key, for brokers that authenticate clients by TLS. */
  cert?: Buffer;
  key?: Buffer;
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
 * The queue of QoS 1 messages sent through this class directly is MQTT.js's in-memory
 * store: lost if the process dies. The daemon therefore queues detections and events in
 * the on-disk outbox (outbox.ts) and hands them over only while connected, a few at a time.
 */
export class MqttPublisher {
  private readonly options: ResolvedPublisherOptions;
  private readonly secrets: Pick<MqttPublisherOptions, 'username' | 'password' | 'tls'>;
  private readonly topics: ReturnType<typeof topicsFor>;
  private readonly log: Logger;
  private client: MqttClient | undefined;
  private stopping: Promise<void> | undefined;
  private readonly connectionListeners: Array<(connected: boolean) => void> = [];
  private extraStatus: Partial<StatusMessage> = {};

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
      reconnectPeriodMs: options.reconnectPeriodMs ?? 1000,
      reconnectMaxMs: options.reconnectMaxMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      keepaliveSeconds: options.keepaliveSeconds ?? 60,
      stopTimeoutMs: options.stopTimeoutMs ?? 3000,
      statusInfo: options.statusInfo ?? {},
    };
    this.secrets = { username: options.username, password: options.password, tls: options.tls };
    this.topics = topicsFor(topicPrefix, options.vehicleId);
    this.log = stageLogger('publish');
  }

  /** True while the broker connection is up (CONNACK received). */
  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Calls `listener(true)` after each CONNACK and `listener(false)` when the link drops. */
  onConnectionChange(listener: (connected: boolean) => void): void {
    this.connectionListeners.push(listener);
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
    backOffReconnects(this.client, this.options.reconnectPeriodMs, this.options.reconnectMaxMs);
    this.client.on('connect', () => {
      this.announce('online');
      this.connectionListeners.forEach((listener) => listener(true));
    });
    this.client.on('close', () => this.connectionListeners.forEach((listener) => listener(false)));
  }

  private clientOptions(): IClientOptions {
    return clientOptions(this.options, this.secrets, {
      topic: this.topics.status,
      payload: Buffer.from(JSON.stringify({ state: 'offline' } satisfies StatusMessage)),
    });
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
  publishJson(topic: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    return this.publishRaw(topic, JSON.stringify(payload), options);
  }

  /** Publishes `body` as it is (the outbox stores serialised payloads); see publishJson. */
  async publishRaw(topic: string, body: string, options: PublishOptions = {}): Promise<void> {
    const client = this.client;
    if (!client) throw new Error(`publish to ${topic} before MqttPublisher.start()`);

    const qos = options.qos ?? 1;
    try {
      await client.publishAsync(topic, body, { qos, retain: options.retain ?? false });
    } catch (err) {
      const why = this.stopping !== undefined
        ? 'the publisher stopped first' : (err as Error).message;
      throw new Error(`MQTT publish to ${topic} was not acknowledged: ${why}`, { cause: err });
    }
  }

  private statusMessage(state: DaemonState): StatusMessage {
    return { state, ...this.options.statusInfo, ...this.extraStatus, at: new Date().toISOString() };
  }

  /**
   * Adds `fields` (the camera's state, a reloaded model) to the retained status and
   * republishes it at once when connected (unless `announce` is false); otherwise the next
   * status carries it.
   */
  updateStatus(fields: Partial<Pick<StatusMessage, 'camera' | 'model'>>, announce = true): void {
    this.extraStatus = { ...this.extraStatus, ...fields };
    if (announce && this.connected) this.announce('online');
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
