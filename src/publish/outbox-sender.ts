import { describeError } from '../util/errors';
import { stageLogger, type Logger } from '../util/logger';
import type { Outbox } from './outbox';

/**
 * Moves messages from the outbox to the broker in capture order. Only durable entries are
 * sent, only while connected, at most `maxInFlight` awaiting PUBACK and at most
 * `ratePerSecond` per second, so that the backlog of a long outage does not flood the
 * broker or the car's uplink when the link returns. An entry leaves the outbox on PUBACK.
 *
 * A message in flight when the link drops stays in MQTT.js's store, which resends it first
 * on the next connect and holds new publishes back meanwhile, so the order holds.
 */

/** What the sender needs from the MQTT client (MqttPublisher implements it). */
export interface OutboxLink {
  readonly connected: boolean;
  /** Publishes `body` at QoS 1; resolves on PUBACK. */
  publishRaw(topic: string, body: string): Promise<void>;
  /** Calls `listener` on every connect (true) and loss of the link (false). */
  onConnectionChange(listener: (connected: boolean) => void): void;
}

export interface OutboxSenderOptions {
  /** Messages sent and not yet acknowledged, at most; default 16. */
  maxInFlight?: number;
  /** Messages sent per second, at most (replay after an outage); default 50. */
  ratePerSecond?: number;
}

/** Milliseconds before retrying after MQTT.js refused a publish outright. */
const RETRY_AFTER_FAILURE_MS = 1000;

export class OutboxSender {
  /** The last seq handed to MQTT; entries after it are still to send. */
  private cursor = 0;
  private inFlight = 0;
  private tokens: number;
  private refilledAtMs = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly idle = new Set<() => void>();
  private readonly maxInFlight: number;
  private readonly ratePerSecond: number;
  private readonly log: Logger = stageLogger('publish');

  constructor(private readonly outbox: Outbox, private readonly link: OutboxLink,
    options: OutboxSenderOptions = {}) {
    this.maxInFlight = options.maxInFlight ?? 16;
    this.ratePerSecond = options.ratePerSecond ?? 50;
    this.tokens = this.maxInFlight;
  }

  /** Starts sending what the outbox holds, and again after every reconnect. */
  start(): void {
    this.link.onConnectionChange((connected) => {
      if (connected) this.pump();
    });
    this.pump();
  }

  /**
   * Queues `payload` for `topic`: written to disk first, sent once it is there. Resolves when
   * it is on disk; rejects when the disk refused it (the message is then lost, and said so).
   */
  async send(topic: string, payload: unknown): Promise<void> {
    const { written } = this.outbox.add(topic, payload);
    await written;

    this.pump();
  }

  /** Resolves true once the outbox is empty, false when `timeoutMs` passes first. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.outbox.depth === 0) return Promise.resolve(true);

    return new Promise((resolve) => {
      const done = (empty: boolean) => {
        clearTimeout(timer);
        this.idle.delete(onIdle);
        resolve(empty);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idle.add(onIdle);
    });
  }

  /** Stops handing messages to MQTT; what is left stays in the outbox. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private refill(): void {
    const nowMs = Date.now();
    const earned = ((nowMs - this.refilledAtMs) / 1000) * this.ratePerSecond;
    this.tokens = Math.min(this.maxInFlight, this.tokens + earned);
    this.refilledAtMs = nowMs;
  }

  private pump(): void {
    if (this.stopped) return;

    this.outbox.enforceBounds();
    this.refill();
    while (this.link.connected && this.inFlight < this.maxInFlight && this.tokens >= 1) {
      const [next] = this.outbox.after(this.cursor, 1);
      if (!next) break;

      this.cursor = next.seq;
      this.tokens -= 1;
      this.inFlight += 1;
      this.link.publishRaw(next.topic, next.body).then(
        () => this.settled(next.seq),
        (err) => this.failed(next.seq, err),
      );
    }

    if (this.tokens < 1 && this.outbox.after(this.cursor, 1).length > 0) {
      this.wakeIn(((1 - this.tokens) / this.ratePerSecond) * 1000);
    }
  }

  private wakeIn(ms: number): void {
    if (this.timer) return;

    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.ceil(ms));
  }

  private settled(seq: number): void {
    this.inFlight -= 1;
    this.outbox.ack(seq);
    if (this.outbox.depth === 0) [...this.idle].forEach((notify) => notify());

    this.pump();
  }

  private failed(seq: number, err: unknown): void {
    this.inFlight -= 1;
    if (this.stopped) return;

    // Sent again from this one on: a duplicate is fine (subscribers drop it by id).
    this.cursor = Math.min(this.cursor, seq - 1);
    this.log.warn({ seq, err: describeError(err) }, 'outbox message not published; retrying');
    this.wakeIn(RETRY_AFTER_FAILURE_MS);
  }
}
