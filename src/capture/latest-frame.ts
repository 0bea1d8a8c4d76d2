import type { Frame } from './source';

/**
 * The one-slot buffer between a camera that captures at its own rate and the inference
 * loop: a new frame replaces one the loop has not taken yet (counted as dropped), so the
 * loop always gets the newest frame and nothing queues up behind a slow inference.
 */
export class LatestFrameSlot {
  private frame: Frame | undefined;
  private waiter: ((frame: Frame | undefined) => void) | undefined;
  private ended = false;
  /** Frames put in since creation. */
  captured = 0;
  /** Frames replaced before the loop took them. */
  dropped = 0;

  /** Offers a new frame; the older one, if still there, is dropped. */
  put(frame: Frame): void {
    if (this.ended) return;

    this.captured += 1;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter(frame);

      return;
    }
    if (this.frame) this.dropped += 1;
    this.frame = frame;
  }

  /** The newest frame not yet taken; waits for one; undefined once ended. */
  take(): Promise<Frame | undefined> {
    if (this.frame) {
      const frame = this.frame;
      this.frame = undefined;

      return Promise.resolve(frame);
    }
    if (this.ended) return Promise.resolve(undefined);

    return new Promise((resolve) => {
      // One consumer (the loop); a second take() would replace the first's wake-up.
      this.waiter = resolve;
    });
  }

  /** No more frames: a waiting take() resolves undefined; a frame still held is kept. */
  end(): void {
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(undefined);
  }
}
