/**
 * MQTT contract v1: the payloads edge-pothole publishes. Documented in the README; a change
 * here is a change to every subscriber (driver display, road authority map).
 */

/** Identity of the model that produced a detection. */
export interface ModelRef {
  /** Directory name of the model, e.g. "pothole". */
  name: string;
  /** sha256 of the head weights file (weights.bin). */
  sha256: string;
}

/** `edge-pothole/<vehicle_id>/detections`, QoS 1: one per frame at or above the threshold. */
export interface DetectionMessage {
  /** Unique id (UUID v4); subscribers de-duplicate QoS 1 redeliveries by it. */
  id: string;
  label: string;
  /** Probability of `label`, in [0, 1]. */
  confidence: number;
  /** Probability of every label. */
  scores: Record<string, number>;
  /** When the frame was captured, ISO 8601 UTC. */
  captured_at: string;
  vehicle_id: string;
  /** Device or file the frame came from. */
  source: string;
  /** Frame counter of this run, from 1. */
  frame_seq: number;
  model: ModelRef;
  /** Capture to decision, milliseconds. */
  latency_ms: number;
  /** With preprocess.tiles: the tile (0-based, row by row) whose confidence the frame took. */
  tile?: number;
  /** The event (one pothole passage) this frame belongs to; see EventMessage. */
  event_id?: string;
  /** Where the car was when the frame was captured; only when GPS is configured and fixed. */
  location?: Location;
}

/** A GPS fix from gpsd, as attached to detections and events. */
export interface Location {
  /** Latitude and longitude, WGS84 degrees. */
  lat: number;
  lon: number;
  /** Speed over ground, metres per second; absent when gpsd does not know it. */
  speed_mps?: number;
  /** Course over ground, degrees clockwise from true north; absent when unknown. */
  heading_deg?: number;
  /** Time of the fix, ISO 8601 UTC. */
  fix_time: string;
}

/**
 * `edge-pothole/<vehicle_id>/events`, QoS 1: one per pothole passage, when it closes (after
 * `decide.gap_frames` frames below the threshold, or when the daemon stops).
 */
export interface EventMessage {
  /** UUID v4; every detection of the passage carries it as `event_id`. */
  event_id: string;
  vehicle_id: string;
  label: string;
  /** Capture times of the first and last frame at or above the threshold, ISO 8601 UTC. */
  started_at: string;
  ended_at: string;
  /** Frames at or above the threshold in the event. */
  frame_count: number;
  /** Highest confidence in the event, [0, 1]. */
  peak_confidence: number;
  /** `id` of the detection with the highest confidence. */
  peak_detection_id: string;
  source: string;
  model: ModelRef;
  /** Location of the peak frame; only when GPS is configured and fixed. */
  location?: Location;
  /** Path of the peak frame's JPEG on the vehicle; only when snapshots are on. */
  snapshot?: string;
}

/** `edge-pothole/<vehicle_id>/stats`, QoS 0, every `stats_interval_seconds`. */
export interface StatsMessage {
  /** ISO 8601 time of the sample. */
  at: string;
  uptime_seconds: number;
  /** Frames delivered by the camera and frames inferred per second over the interval. */
  capture_fps: number;
  inference_fps: number;
  /** Inference time percentiles over the interval, milliseconds; null without frames. */
  inference_ms_p50: number | null;
  inference_ms_p95: number | null;
  /** Counters since start. Dropped = replaced by a newer frame before inference took it. */
  frames_total: number;
  dropped_frames_total: number;
  unreadable_frames_total: number;
  detections_total: number;
  events_total: number;
  /** Frames at or above the threshold that the temporal filter did not turn into an event. */
  suppressed_frames_total: number;
  /** Messages waiting in the on-disk outbox, and messages dropped by its bounds. */
  outbox_depth: number;
  outbox_dropped_total: number;
  backend: string;
  camera: CameraState;
  memory_rss_bytes: number;
  memory_heap_used_bytes: number;
}

/**
 * The camera as the capture stage sees it: `running` (frames arrive), `starting`,
 * `stalled` (no frame for source.stall_seconds; restarting), `unavailable` (device or
 * stream missing; retried with backoff), `ended` (a finite source is done).
 */
export type CameraState = 'starting' | 'running' | 'stalled' | 'unavailable' | 'ended';

export type DaemonState = 'online' | 'offline' | 'stopped';

/** `edge-pothole/<vehicle_id>/status`, retained; the Last Will is `{"state":"offline"}`. */
export interface StatusMessage {
  state: DaemonState;
  version?: string;
  /** e.g. "onnxruntime/cpu" or "tfjs/wasm". */
  backend?: string;
  model?: ModelRef;
  /** The camera's state, republished (retained) on each change. */
  camera?: CameraState;
  /** ISO 8601 time of this status. */
  at?: string;
}

/** Topic names for one vehicle; `vehicleId` is validated to contain no `+`, `#` or `/`. */
export function topicsFor(prefix: string, vehicleId: string) {
  return {
    detections: `${prefix}/${vehicleId}/detections`,
    status: `${prefix}/${vehicleId}/status`,
    stats: `${prefix}/${vehicleId}/stats`,
    events: `${prefix}/${vehicleId}/events`,
  };
}
