import { execFile } from 'node:child_process';

import { stageLogger } from '../util/logger';

/**
 * Tells systemd how the service is doing (sd_notify) without a native module: Node cannot
 * send on a unix datagram socket, so each notification runs the `systemd-notify` binary.
 *
 * Honest limits, also in docs/daemon.md: systemd before v254 attributes a notification to
 * the service by looking up the sender's cgroup, and `systemd-notify` may have exited by
 * then, so a message can be lost (the unit therefore sets NotifyAccess=all, and READY=1 is
 * repeated with every keep-alive so a lost one is made good within one period). The
 * keep-alive (WATCHDOG=1) is sent only when frames were inferred since the last one: a
 * daemon whose camera or inference hangs stops pinging and systemd restarts it.
 */

/** Milliseconds a systemd-notify run may take before it is abandoned. */
const NOTIFY_TIMEOUT_MS = 5000;

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  /** The binary; default `systemd-notify` on PATH. */
  binary?: string;
}

export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;
  private progressed = false;
  private ready = false;
  private failureLogged = false;
  private readonly enabled: boolean;
  private readonly watchdogMs: number | undefined;
  private readonly binary: string;

  constructor(options: NotifierOptions = {}) {
    const env = options.env ?? process.env;
    this.enabled = Boolean(env.NOTIFY_SOCKET);
    const usec = Number(env.WATCHDOG_USEC);
    const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
    this.watchdogMs = Number.isFinite(usec) && usec > 0 && forUs ? usec / 1000 : undefined;
    this.binary = options.binary ?? 'systemd-notify';
  }

  /** True when systemd gave us a notification socket (Type=notify). */
  get active(): boolean {
    return this.enabled;
  }

  /** The model is loaded and the loop starts: READY=1, then keep-alives while frames move. */
  markReady(status: string): void {
    this.ready = true;
    this.send(['READY=1', `STATUS=${status}`]);
    if (!this.enabled) return;

    // A quarter of WatchdogSec, so one lost ping does not get us killed.
    const periodMs = this.watchdogMs ? this.watchdogMs / 4 : 30_000;
    this.timer = setInterval(() => this.tick(), periodMs);
    this.timer.unref();
  }

  /** A frame went through inference: the next tick may ping the watchdog. */
  markProgress(): void {
    this.progressed = true;
  }

  /** STOPPING=1 when shutdown begins; keep-alives stop. */
  markStopping(): void {
    clearInterval(this.timer);
    this.send(['STOPPING=1', 'STATUS=stopping']);
  }

  /** The notifications one tick sends; exported for tests through `tick`. */
  nextNotification(): string[] {
    const fields = this.ready ? ['READY=1'] : [];
    if (this.watchdogMs && this.progressed) fields.push('WATCHDOG=1');
    this.progressed = false;

    return fields;
  }

  private tick(): void {
    const fields = this.nextNotification();
    if (fields.length > 0) this.send(fields);
  }

  private send(fields: string[]): void {
    if (!this.enabled) return;

    const args = [`--pid=${process.pid}`, ...fields];
    execFile(this.binary, args, { timeout: NOTIFY_TIMEOUT_MS }, (err) => {
      if (!err || this.failureLogged) return;
      this.failureLogged = true;
      stageLogger('daemon').warn({ binary: this.binary, err: err.message },
        'systemd notification failed; the watchdog may restart the service');
    });
  }
}
