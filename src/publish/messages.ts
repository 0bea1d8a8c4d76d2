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
}

export type DaemonState = 'online' | 'offline' | 'stopped';

/** `edge-pothole/<vehicle_id>/status`, retained; the Last Will is `{"state":"offline"}`. */
export interface StatusMessage {
  state: DaemonState;
  version?: string;
  /** e.g. "onnxruntime/cpu" or "tfjs/wasm". */
  backend?: string;
  model?: ModelRef;
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
