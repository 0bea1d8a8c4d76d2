import type { BackboneIdentity } from '../backbone';
import type { TfBackendPreference } from '../tf-backend';

/**
 * The messages between the pool (main thread) and a tfjs worker thread. Plain data only:
 * they cross the thread boundary by structured clone, frames and features by transfer.
 */

/** Handed to each worker at start (`workerData`). */
export interface WorkerSetup {
  /** Backbone layer pooled into the bottleneck. */
  layer?: string;
  tfBackend: TfBackendPreference;
}

export type ToWorker =
  | { kind: 'features'; jobId: number; frames: Uint8Array[] }
  | { kind: 'tensors'; jobId: number };

export type FromWorker =
  /** Sent once, after the backbone has loaded. */
  | { kind: 'ready'; identity: BackboneIdentity; backend: string }
  /** Sent instead of `ready` when the worker cannot start; it then exits. */
  | { kind: 'failed'; message: string }
  | { kind: 'features'; jobId: number; features: Float32Array[] }
  | { kind: 'tensors'; jobId: number; count: number }
  | { kind: 'error'; jobId: number; message: string };
