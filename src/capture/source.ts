/** One captured frame, still encoded (JPEG, PNG...): decoding belongs to preprocess. */
export interface Frame {
  data: Buffer;
  capturedAt: Date;
  /** Device or file the frame came from, as published with each detection. */
  source: string;
}

/**
 * A camera. The inference loop pulls the next frame when it is ready for one, so nothing
 * queues up between capture and inference.
 */
export interface FrameSource {
  /** For logs and status: e.g. `dir:/data/run1` or `webcam:/dev/video0`. */
  readonly description: string;
  /** The next frame; undefined when a finite source has ended. */
  next(): Promise<Frame | undefined>;
  close(): Promise<void>;
}
