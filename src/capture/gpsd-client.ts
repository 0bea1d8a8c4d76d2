import net from 'node:net';

import type { Location } from '../publish/messages';
import { stageLogger, type Logger } from '../util/logger';

/**
 * Positions from gpsd over its JSON protocol: after `?WATCH={"enable":true,"json":true}`
 * gpsd streams one JSON object per line; TPV objects carry the fix. The newest 2D/3D fix
 * is kept; detections take it when their frame arrives. The link is retried with backoff
 * and logged once per change, like the broker's.
 */

export interface GpsdOptions {
  host: string;
  /** TCP port; gpsd's default is 2947. */
  port: number;
  /** A fix older than this is not used, milliseconds. */
  maxAgeMs: number;
}

/** A fix and when we received it (gpsd's `time` may be absent or from a wrong GPS clock). */
interface Fix {
  location: Location;
  receivedAtMs: number;
}

const WATCH = '?WATCH={"enable":true,"json":true}\n';
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/** The location in one gpsd line, or undefined when it is not a TPV with a 2D/3D fix. */
export function parseTpv(line: string, receivedAt: Date): Location | undefined {
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { lat, lon, mode } = report;
  if (report.class !== 'TPV' || typeof mode !== 'number' || mode < 2) return undefined;
  if (typeof lat !== 'number' || typeof lon !== 'number') return undefined;

  const location: Location = { lat, lon, fix_time: typeof report.time === 'string'
    ? report.time : receivedAt.toISOString() };
  if (typeof report.speed === 'number') location.speed_mps = report.speed;
  if (typeof report.track === 'number') location.heading_deg = report.track;

  return location;
}

export class GpsdClient {
  private fix: Fix | undefined;
  private socket: net.Socket | undefined;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private connected = false;
  private warned = false;
  private readonly log: Logger = stageLogger('capture');

  constructor(private readonly options: GpsdOptions) {}

  /** Connects in the background; never throws because gpsd is away. */
  start(): void {
    this.connect();
  }

  /** The newest fix if it is younger than maxAgeMs. */
  current(nowMs = Date.now()): Location | undefined {
    if (!this.fix || nowMs - this.fix.receivedAtMs > this.options.maxAgeMs) return undefined;

    return this.fix.location;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.destroy();
  }

  private connect(): void {
    const { host, port } = this.options;
    const socket = net.connect({ host, port });
    this.socket = socket;
    let pending = '';

    socket.setEncoding('utf8');
    socket.on('connect', () => {
      this.connected = true;
      this.warned = false;
      this.retryMs = FIRST_RETRY_MS;
      this.log.info({ host, port }, 'gpsd connected');
      socket.write(WATCH);
    });
    socket.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.take(line);
    });
    socket.on('error', (err) => {
      if (!this.warned) {
        this.log.warn({ host, port, err: err.message }, 'gpsd unreachable; retrying');
      }
      this.warned = true;
    });
    socket.on('close', () => this.closed());
  }

  private take(line: string): void {
    const location = parseTpv(line, new Date());
    if (location) this.fix = { location, receivedAtMs: Date.now() };
  }

  private closed(): void {
    if (this.connected) this.log.warn(this.options, 'gpsd connection lost; retrying');
    this.connected = false;
    if (this.stopped) return;

    this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
  }
}
