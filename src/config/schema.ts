import os from 'node:os';

import convict from 'convict';

/**
 * The one configuration schema: every key has a default, a doc (with unit), an env var
 * `EDGE_POTHOLE_<KEY>` and a flag. Order of precedence: defaults < config file < env < flags.
 */

/**
 * Convict appends ": value was X" only for truthy values; a bad 0, "" or false would go
 * unnamed, so the message names those itself.
 */
function falsyValue(value: unknown): string {
  return value ? '' : `: value was ${JSON.stringify(value)}`;
}

/**
 * Env vars and flags arrive as strings. Convict's own number formats parseFloat them, which
 * reads "0.7x" as 0.7; these accept a string only when all of it is a number, and otherwise
 * keep the string so that validation reports it as given.
 */
function strictNumber(raw: string): number | string {
  const trimmed = raw.trim();

  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : raw;
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false,
};

convict.addFormats({
  'unit-interval': {
    coerce: strictNumber,
    validate(value: unknown) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw new Error(`must be a number from 0 to 1${falsyValue(value)}`);
      }
    },
  },
  'non-negative-number': {
    coerce: strictNumber,
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new Error(`must be a number >= 0${falsyValue(value)}`);
      }
    },
  },
  'whole-number': {
    coerce: strictNumber,
    validate(value: unknown) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw new Error(`must be a whole number >= 0${falsyValue(value)}`);
      }
    },
  },
  'strict-boolean': {
    // Convict's Boolean reads anything but "false" as true, so "0" and "no" would switch on.
    coerce: (raw: string) => BOOLEAN_WORDS[raw.trim().toLowerCase()] ?? raw,
    validate(value: unknown) {
      if (typeof value !== 'boolean') {
        throw new Error(`must be true or false (also 1/0, yes/no, on/off)${falsyValue(value)}`);
      }
    },
  },
});

function noTopicWildcards(value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || /[+#/]/.test(value)) {
    throw new Error(`must be a non-empty string without "+", "#" or "/"${falsyValue(value)}`);
  }
}

function topicPrefix(value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || /[+#]/.test(value) ||
      value.startsWith('/') || value.endsWith('/')) {
    throw new Error('must be a non-empty MQTT topic without "+", "#" or a leading/trailing "/"' +
      falsyValue(value));
  }
}

function sourceSpec(value: unknown): void {
  if (typeof value !== 'string' || !/^(dir|webcam):.+/.test(value)) {
    throw new Error(`must look like dir:PATH or webcam:/dev/videoN${falsyValue(value)}`);
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
    doc: 'Pothole confidence (0..1) at or above which a frame is published as a detection.',
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
    doc: 'Directory for the daemon\'s state (caches). Must be writable.',
    format: String,
    default: '/var/lib/edge-pothole',
    env: 'EDGE_POTHOLE_STATE_DIR',
    arg: 'state_dir',
  },
  source: {
    spec: {
      doc: 'Camera: dir:PATH replays image files in name order; webcam:/dev/videoN grabs with fswebcam.',
      format: sourceSpec,
      default: 'webcam:/dev/video0',
      env: 'EDGE_POTHOLE_SOURCE',
      arg: 'source',
    },
    fps: {
      doc: 'Frames per second to take from the source; 0 = as fast as inference allows.',
      format: 'non-negative-number',
      default: 0,
      env: 'EDGE_POTHOLE_FPS',
      arg: 'fps',
    },
    loop: {
      doc: 'Replay a dir: source forever instead of exiting when it ends.',
      format: 'strict-boolean',
      default: false,
      env: 'EDGE_POTHOLE_SOURCE_LOOP',
      arg: 'source.loop',
    },
    width: {
      doc: 'Capture width in pixels for webcam sources.',
      format: 'whole-number',
      default: 1280,
      env: 'EDGE_POTHOLE_SOURCE_WIDTH',
      arg: 'source.width',
    },
    height: {
      doc: 'Capture height in pixels for webcam sources.',
      format: 'whole-number',
      default: 720,
      env: 'EDGE_POTHOLE_SOURCE_HEIGHT',
      arg: 'source.height',
    },
  },
  model: {
    doc: 'Model directory written by "edge-pothole retrain". Relative paths: from the working directory.',
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
  },
  mqtt: {
    url: {
      doc: 'Broker URL: mqtt://host:port or mqtts://host:port.',
      format: (value: unknown) => {
        if (typeof value !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/.test(value)) {
          throw new Error('must be a URL like mqtt://127.0.0.1:1883');
        }
      },
      default: 'mqtt://127.0.0.1:1883',
      env: 'EDGE_POTHOLE_BROKER',
      arg: 'broker',
    },
    topic_prefix: {
      doc: 'First level of every topic.',
      format: topicPrefix,
      default: 'edge-pothole',
      env: 'EDGE_POTHOLE_TOPIC_PREFIX',
      arg: 'mqtt.topic_prefix',
    },
    username: {
      doc: 'Broker user name; empty = anonymous.',
      format: String,
      default: '',
      env: 'EDGE_POTHOLE_MQTT_USERNAME',
      arg: 'mqtt.username',
    },
    password: {
      doc: 'Broker password. Set it through the env var, never on the command line.',
      format: String,
      default: '',
      sensitive: true,
      env: 'EDGE_POTHOLE_MQTT_PASSWORD',
    },
    embedded_broker: {
      doc: 'Demo only: start an in-process broker on loopback when none listens on the URL\'s port.',
      format: 'strict-boolean',
      default: false,
      env: 'EDGE_POTHOLE_EMBEDDED_BROKER',
      arg: 'mqtt.embedded_broker',
    },
  },
};
