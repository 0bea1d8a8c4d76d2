import os from 'node:os';

/**
 * The one configuration schema: every key has a default, a doc (with unit), an env var
 * `EDGE_POTHOLE_<KEY>` and a flag. Order of precedence: defaults < config file < env < flags.
 */

function noTopicWildcards(name: string) {
  return (value: unknown): void => {
    if (typeof value !== 'string' || value.length === 0 || /[+#/]/.test(value)) {
      throw new Error(`${name} must be a non-empty string without "+", "#" or "/"`);
    }
  };
}

function topicPrefix(value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || /[+#]/.test(value) ||
      value.startsWith('/') || value.endsWith('/')) {
    throw new Error('must be a non-empty MQTT topic without "+", "#" or a leading/trailing "/"');
  }
}

function unitInterval(value: unknown): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new Error('must be a number from 0 to 1');
  }
}

function nonNegative(value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error('must be a number >= 0');
  }
}

function sourceSpec(value: unknown): void {
  if (typeof value !== 'string' || !/^(dir|webcam):.+/.test(value)) {
    throw new Error('must look like dir:PATH or webcam:/dev/videoN');
  }
}

/** A hostname is a sensible vehicle id until one is configured; strip what topics forbid. */
const defaultVehicleId = os.hostname().replace(/[+#/\s]/g, '-') || 'vehicle';

export const schema = {
  vehicle_id: {
    doc: 'Vehicle identifier, the second level of every topic. Default: the host name.',
    format: noTopicWildcards('vehicle_id'),
    default: defaultVehicleId,
    env: 'EDGE_POTHOLE_VEHICLE_ID',
    arg: 'vehicle_id',
  },
  threshold: {
    doc: 'Pothole confidence (0..1) at or above which a frame is published as a detection.',
    format: unitInterval,
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
      format: nonNegative,
      default: 0,
      env: 'EDGE_POTHOLE_FPS',
      arg: 'fps',
    },
    loop: {
      doc: 'Replay a dir: source forever instead of exiting when it ends.',
      format: Boolean,
      default: false,
      env: 'EDGE_POTHOLE_SOURCE_LOOP',
      arg: 'source.loop',
    },
    width: {
      doc: 'Capture width in pixels for webcam sources.',
      format: 'nat',
      default: 1280,
      env: 'EDGE_POTHOLE_SOURCE_WIDTH',
      arg: 'source.width',
    },
    height: {
      doc: 'Capture height in pixels for webcam sources.',
      format: 'nat',
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
      format: 'nat',
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
      format: Boolean,
      default: false,
      env: 'EDGE_POTHOLE_EMBEDDED_BROKER',
      arg: 'mqtt.embedded_broker',
    },
  },
};
