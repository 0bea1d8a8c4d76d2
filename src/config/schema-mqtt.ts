import { falsyValue, optionalPath } from './formats';

/**
 * The `mqtt` section. Secrets (password, TLS key) are read from env vars or files, never
 * from flags: a command line is visible to every user of the machine in /proc.
 */

function topicPrefix(value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || /[+#]/.test(value) ||
      value.startsWith('/') || value.endsWith('/')) {
    throw new Error('must be a non-empty MQTT topic without "+", "#" or a leading/trailing "/"' +
      falsyValue(value));
  }
}

function brokerUrl(value: unknown): void {
  if (typeof value !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/.test(value)) {
    throw new Error('must be a URL like mqtt://127.0.0.1:1883');
  }
}

export const mqttSchema = {
  url: {
    doc: 'Broker URL: mqtt://host:port, or mqtts://host:port for TLS.',
    format: brokerUrl,
    default: 'mqtt://127.0.0.1:1883',
    env: 'EDGE_POTHOLE_BROKER',
    arg: 'broker',
  },
  topic_prefix: {
    doc: 'First level(s) of every topic.',
    format: topicPrefix,
    default: 'edge-pothole',
    env: 'EDGE_POTHOLE_TOPIC_PREFIX',
    arg: 'mqtt.topic_prefix',
  },
  protocol_version: {
    doc: 'MQTT protocol: 4 = 3.1.1, 5 = 5.0.',
    format: 'mqtt-protocol',
    default: 4,
    env: 'EDGE_POTHOLE_MQTT_PROTOCOL_VERSION',
    arg: 'mqtt.protocol_version',
  },
  username: {
    doc: 'Broker user name; empty = anonymous (or the file mqtt.username_file, or the ' +
      'systemd credential mqtt_username).',
    format: String,
    default: '',
    env: 'EDGE_POTHOLE_MQTT_USERNAME',
    arg: 'mqtt.username',
  },
  username_file: {
    doc: 'File holding the broker user name; empty = none.',
    format: optionalPath,
    default: '',
    env: 'EDGE_POTHOLE_MQTT_USERNAME_FILE',
    arg: 'mqtt.username_file',
  },
  password: {
    doc: 'Broker password. Env var or config file only, never a flag; better: ' +
      'mqtt.password_file or the systemd credential mqtt_password.',
    format: String,
    default: '',
    sensitive: true,
    env: 'EDGE_POTHOLE_MQTT_PASSWORD',
  },
  password_file: {
    doc: 'File holding the broker password (first line); empty = none. Default when ' +
      '$CREDENTIALS_DIRECTORY/mqtt_password exists (systemd LoadCredential=).',
    format: optionalPath,
    default: '',
    env: 'EDGE_POTHOLE_MQTT_PASSWORD_FILE',
    arg: 'mqtt.password_file',
  },
  ca_file: {
    doc: 'PEM file of the CA that signed the broker\'s certificate (mqtts://); empty = the ' +
      'system\'s CAs.',
    format: optionalPath,
    default: '',
    env: 'EDGE_POTHOLE_MQTT_CA_FILE',
    arg: 'mqtt.ca_file',
  },
  cert_file: {
    doc: 'PEM client certificate for TLS client authentication; empty = none.',
    format: optionalPath,
    default: '',
    env: 'EDGE_POTHOLE_MQTT_CERT_FILE',
    arg: 'mqtt.cert_file',
  },
  key_file: {
    doc: 'PEM private key of cert_file; empty = none. Default when ' +
      '$CREDENTIALS_DIRECTORY/mqtt_key exists.',
    format: optionalPath,
    default: '',
    env: 'EDGE_POTHOLE_MQTT_KEY_FILE',
    arg: 'mqtt.key_file',
  },
  reconnect_max_seconds: {
    doc: 'Reconnect backoff: the wait doubles from 1 s after each failed attempt up to this.',
    format: 'positive-number',
    default: 30,
    env: 'EDGE_POTHOLE_MQTT_RECONNECT_MAX_SECONDS',
    arg: 'mqtt.reconnect_max_seconds',
  },
  embedded_broker: {
    doc: 'Demo only: start an in-process broker on loopback when none listens on the URL\'s port.',
    format: 'strict-boolean',
    default: false,
    env: 'EDGE_POTHOLE_EMBEDDED_BROKER',
    arg: 'mqtt.embedded_broker',
  },
};
