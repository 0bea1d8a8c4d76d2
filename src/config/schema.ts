import os from 'node:os';

import { falsyValue } from './formats';
import { mqttSchema } from './schema-mqtt';
import { pipelineSchema } from './schema-pipeline';
import { sourceSchema } from './schema-source';

/**
 * The one configuration schema: every key has a default, a doc (with unit), an env var
 * `EDGE_POTHOLE_<KEY>` and a flag (except the password, which never goes on a command line).
 * Order of precedence: defaults < config file < env < flags. The sections live in
 * schema-*.ts so that each file stays readable; this object is the whole schema.
 */

function noTopicWildcards(value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || /[+#/]/.test(value)) {
    throw new Error(`must be a non-empty string without "+", "#" or "/"${falsyValue(value)}`);
  }
}

/** A hostname is a sensible vehicle id until one is configured; strip what topics forbid. */
const defaultVehicleId = os.hostname().replace(/[+#/\s]/g, '-') || 'vehicle';

export const schema = {
  vehicle_id: {
    doc: 'Vehicle identifier, the second level of every topic. Default: the host name.',
    format: noTopicWildcards,
    default: defaultVehicleId,
    env: 'EDGE_POTHOLE_VEHICLE_ID',
    arg: 'vehicle_id',
  },
  threshold: {
    doc: 'Pothole confidence (0..1) at or above which a frame counts as a detection.',
    format: 'unit-interval',
    default: 0.5,
    env: 'EDGE_POTHOLE_THRESHOLD',
    arg: 'threshold',
  },
  positive_label: {
    doc: 'The label whose confidence is compared with the threshold.',
    format: String,
    default: 'pothole',
    env: 'EDGE_POTHOLE_POSITIVE_LABEL',
    arg: 'positive_label',
  },
  state_dir: {
    doc: 'Directory for the daemon\'s state: the outbox (outbox/) and event snapshots ' +
      '(snapshots/). Must be writable.',
    format: String,
    default: '/var/lib/edge-pothole',
    env: 'EDGE_POTHOLE_STATE_DIR',
    arg: 'state_dir',
  },
  stats_interval_seconds: {
    doc: 'Seconds between two messages on the stats topic; 0 = no stats.',
    format: 'non-negative-number',
    default: 60,
    env: 'EDGE_POTHOLE_STATS_INTERVAL_SECONDS',
    arg: 'stats_interval_seconds',
  },
  source: sourceSchema,
  model: {
    doc: 'Model directory written by "edge-pothole retrain". Relative paths: from the working ' +
      'directory. SIGHUP reloads it.',
    format: String,
    default: 'models/pothole',
    env: 'EDGE_POTHOLE_MODEL',
    arg: 'model',
  },
  infer: {
    engine: {
      doc: 'auto (ONNX Runtime when it loads, else TensorFlow.js), onnxruntime or tfjs.',
      format: ['auto', 'onnxruntime', 'tfjs'],
      default: 'auto',
      env: 'EDGE_POTHOLE_ENGINE',
      arg: 'engine',
    },
    threads: {
      doc: 'ONNX Runtime threads; 0 = the number of cores.',
      format: 'whole-number',
      default: 0,
      env: 'EDGE_POTHOLE_THREADS',
      arg: 'threads',
    },
    workers: {
      doc: 'tfjs-wasm worker threads (frames inferred at once when ONNX Runtime is not used); ' +
        '0 = the number of cores, 1 = tfjs in the main thread. About 330 MB each.',
      format: 'whole-number',
      default: 0,
      env: 'EDGE_POTHOLE_WORKERS',
      arg: 'infer.workers',
    },
    graph_weights: {
      doc: 'ONNX graph arithmetic: auto (int8, or float32 without the sample photos to ' +
        'calibrate on), int8 (2.6x less CPU; the shipped model was trained on it), float32 ' +
        '(exact), or uint8 / float16 weight storage. See docs/performance.md.',
      format: ['auto', 'int8', 'float32', 'uint8', 'float16'],
      default: 'auto',
      env: 'EDGE_POTHOLE_GRAPH_WEIGHTS',
      arg: 'infer.graph_weights',
    },
  },
  ...pipelineSchema,
  mqtt: mqttSchema,
};
