/**
 * Ctrl-C during retrain. Until the outputs are written, stopping at once is safe: nothing of
 * the model exists yet, and each bottleneck file is renamed into place whole. While a model
 * directory is being written (well under a second), stopping would leave its staging
 * directory behind, or, between the two renames that replace an older model, no model at
 * all. So an interrupt that comes then waits for the write to finish.
 */
export class InterruptGuard {
  private writing = 0;
  private pending = false;

  /** `stop(wroteModel)` ends the process; wroteModel says whether a write was let finish. */
  constructor(private readonly stop: (wroteModel: boolean) => void) {}

  /** Runs `write` so that an interrupt during it takes effect only once it is done. */
  async whileWriting<T>(write: () => Promise<T>): Promise<T> {
    this.writing += 1;
    try {
      return await write();
    } finally {
      this.writing -= 1;
      if (this.pending && this.writing === 0) this.stop(true);
    }
  }

  /** Called on SIGINT: stops now, or after the write in progress. */
  interrupt(): void {
    if (this.writing > 0) this.pending = true;
    else this.stop(false);
  }
}
