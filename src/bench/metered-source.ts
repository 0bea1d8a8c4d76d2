import type { Frame, FrameSource } from '../capture/source';

/**
 * Wraps a camera for the bench: ends it after `limit` frames, and calls `onFrame` with the
 * count of frames delivered so far (the soak samples memory there).
 */
export class MeteredSource implements FrameSource {
  private delivered = 0;

  constructor(
    private readonly inner: FrameSource,
    private readonly limit: number,
    private readonly onFrame: (delivered: number) => void = () => undefined,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  /** Frames handed out so far. */
  get frames(): number {
    return this.delivered;
  }

  async next(): Promise<Frame | undefined> {
    if (this.delivered >= this.limit) return undefined;

    const frame = await this.inner.next();
    if (frame) {
      this.delivered += 1;
      this.onFrame(this.delivered);
    }

    return frame;
  }

  async close(): Promise<void> {
    // The inner source belongs to the caller, who may read from it again.
  }
}
