import { stageLogger } from './logger';

/**
 * Progress of a long count-up (bottleneck creation over thousands of photos): a bar with count,
 * rate and ETA on a terminal, a plain log line every `logEverySeconds` otherwise.
 */
export class Progress {
  private done = 0;
  private readonly startedAt = Date.now();
  private lastLogAt = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly logEverySeconds = 10,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  tick(count = 1): void {
    this.done += count;
    const now = Date.now();
    if (this.tty) {
      this.stream.write(`\r${this.line()}`);
    } else if (now - this.lastLogAt >= this.logEverySeconds * 1000) {
      this.lastLogAt = now;
      stageLogger('retrain').info(this.figures(), this.label);
    }
  }

  finish(): void {
    if (this.tty) this.stream.write(`\r${this.line()}\n`);
    else stageLogger('retrain').info(this.figures(), this.label);
  }

  private figures() {
    const seconds = Math.max((Date.now() - this.startedAt) / 1000, 1e-3);
    const rate = this.done / seconds;
    const etaSeconds = rate > 0 ? (this.total - this.done) / rate : undefined;

    return { done: this.done, total: this.total, perSecond: Number(rate.toFixed(1)),
      etaSeconds: etaSeconds === undefined ? undefined : Math.round(etaSeconds) };
  }

  private line(): string {
    const { done, total, perSecond, etaSeconds } = this.figures();
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;

    return `${this.label} [${bar}] ${done}/${total} ${perSecond}/s ETA ${etaSeconds ?? '?'}s `;
  }
}
