import type { CameraState, Location } from '../publish/messages';

/** One captured frame, still encoded (JPEG, PNG...): decoding belongs to preprocess. */
export interface Frame {
  data: Buffer;
  capturedAt: Date;
  /** Device or file the frame came from, as published with each detection. */
  source: string;
  /** Where the car was at capture, when GPS is on; set by the frame loop. */
  location?: Location;
}

/** Counters of a source, for the stats topic. */
export interface SourceCounters {
  /** Frames received from the camera since start. */
  captured: number;
  /** Frames replaced by a newer one before the loop took them (latest frame wins). */
  dropped: number;
}

/**
 * A camera. The inference loop pulls the next frame when it is ready for one. Sources that
 * capture at the camera's own rate (ffmpeg) keep only the newest frame, so nothing queues
 * up between capture and inference.
 */
export interface FrameSource {
  /** For logs and status: e.g. `dir:/data/run1` or `webcam:/dev/video0`. */
  readonly description: string;
  /** The next frame; undefined when a finite source has ended. */
  next(): Promise<Frame | undefined>;
  /** Stops capturing; a pending `next()` resolves with undefined. */
  close(): Promise<void>;
  /** Frames captured and dropped so far; sources that pull on demand drop none. */
  counters?(): SourceCounters;
  /** Called on each change of the camera's state (for the status topic and the log). */
  onStateChange?(listener: (state: CameraState, detail?: string) => void): void;
}
