import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { connect, type MqttClient } from 'mqtt';
import { logConnectionChanges, redactUrl } from '../publish/connection-log';
import { assertTopicPrefix, assertVehicleId } from '../publish/topic-names';
import { describeError, EdgePotholeError } from '../util/errors';
import { configureLogger, stageLogger, type Logger } from '../util/logger';

/**
 * `edge-pothole watch`: prints the MQTT messages of edge-pothole, one line each, on stdout.
 * Logs go to stderr so that stdout can be piped into jq or a test.
 */

const USAGE = `usage: edge-pothole watch [options]

Subscribes to <prefix>/<vehicle>/# and prints one line per message: "topic payload".

options:
  --broker URL            broker to watch (default mqtt://127.0.0.1:1883)
  --vehicle-id ID|+       one vehicle, or + for all of them (default +)
  --topic-prefix P        first topic level(s) (default edge-pothole)
  --count N               exit 0 after N messages (retained ones count)
  --timeout-seconds S     give up after S seconds: exit 3 if fewer than --count arrived,
                          exit 0 if no --count was given
  --json                  print {"topic", "payload" (parsed), "retained"} per line
  -h, --help              show this help

exit codes: 0 done, 1 subscription refused, 3 timed out, 64 bad usage,
            69 broker unreachable at start`;

const EX_REFUSED = 1;
const EX_TIMEOUT = 3;
const EX_USAGE = 64;
const EX_UNAVAILABLE = 69;

interface WatchOptions {
  broker: string;
  filter: string;
  /** Messages to print before exiting; undefined = until a signal or the timeout. */
  count?: number;
  timeoutMs?: number;
  json: boolean;
}

function parsePositive(flag: string, value: string | undefined, integer: boolean) {
  if (value === undefined) return undefined;

  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    const expected = integer ? 'a positive integer' : 'a positive number';
    throw new EdgePotholeError(
      'EP_USAGE',
      `${flag} must be ${expected}; received ${JSON.stringify(value)}`,
    );
  }

  return n;
}

/** Parses argv; throws EP_USAGE (bad flag or value) or EP_CONFIG_INVALID (bad topic part). */
function parseWatchArgs(argv: string[]): WatchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      'vehicle-id': { type: 'string', default: '+' },
      'topic-prefix': { type: 'string', default: 'edge-pothole' },
      count: { type: 'string' },
      'timeout-seconds': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';

  const vehicle = values['vehicle-id'];
  if (vehicle !== '+') assertVehicleId(vehicle, '--vehicle-id');
  assertTopicPrefix(values['topic-prefix'], '--topic-prefix');
  const seconds = parsePositive('--timeout-seconds', values['timeout-seconds'], false);

  return {
    broker: values.broker,
    filter: `${values['topic-prefix']}/${vehicle}/#`,
    count: parsePositive('--count', values.count, true),
    timeoutMs: seconds === undefined ? undefined : seconds * 1000,
    json: values.json,
  };
}

function formatLine(topic: string, payload: Buffer, retained: boolean, json: boolean): string {
  const text = payload.toString('utf8');
  if (!json) return `${topic} ${text}`;

  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not ours or not JSON: print it as a string rather than drop it.
  }

  return JSON.stringify({ topic, payload: parsed, retained });
}

/**
 * Connects, subscribes and prints until `count` messages, the timeout or SIGINT/SIGTERM.
 * Resolves to the exit code.
 */
function watch(options: WatchOptions): Promise<number> {
  const log = stageLogger('watch');
  // Random id: two watchers with one id would keep kicking each other off the broker.
  const clientId = `ep-watch-${randomBytes(4).toString('hex')}`;
  const client = connect(options.broker, { clientId, reconnectPeriod: 1000, clean: true });

  return new Promise<number>((resolve) => {
    let printed = 0;
    let everConnected = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (code: number) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      client.end(true, () => resolve(code));
    };
    const onSignal = () => finish(0);
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

    if (options.timeoutMs !== undefined) {
      const code = options.count === undefined ? 0 : EX_TIMEOUT;
      timer = setTimeout(() => {
        if (code !== 0) log.warn({ printed, wanted: options.count }, 'timed out');
        finish(code);
      }, options.timeoutMs);
    }

    // Subscribe once: MQTT.js resubscribes by itself after a reconnect.
    client.once('connect', () => {
      everConnected = true;
      logConnectionChanges(client, log, options.broker);
      subscribe(client, options.filter, log, () => finish(EX_REFUSED));
    });
    client.on('error', (err) => {
      // A watcher started against the wrong URL should say so, not wait forever.
      if (everConnected) return;

      process.stderr.write(
        `edge-pothole watch: cannot reach ${redactUrl(options.broker)}: ${describeError(err)}\n`,
      );
      finish(EX_UNAVAILABLE);
    });
    client.on('message', (topic, payload, packet) => {
      if (options.count !== undefined && printed >= options.count) return;

      process.stdout.write(`${formatLine(topic, payload, packet.retain, options.json)}\n`);
      printed += 1;
      if (printed === options.count) finish(0);
    });
  });
}

function subscribe(client: MqttClient, filter: string, log: Logger, onFailure: () => void) {
  client.subscribe(filter, { qos: 1 }, (err, granted) => {
    // MQTT 3.1.1 brokers refuse a subscription through the granted QoS 128, not an error.
    const refused = err ?? (granted?.some((g) => g.qos === 128) ? 'refused' : undefined);
    if (refused === undefined) {
      log.info({ filter }, 'watching');

      return;
    }

    process.stderr.write(`edge-pothole watch: the broker refused the subscription ${filter}\n`);
    log.error({ err, filter }, 'subscribe failed');
    onFailure();
  });
}

/** Entry of `edge-pothole watch`; resolves to the process exit code. */
export async function run(argv: string[]): Promise<number> {
  configureLogger({ fd: 2 });

  let options: WatchOptions | 'help';
  try {
    options = parseWatchArgs(argv);
  } catch (err) {
    // parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION.
    const code = (err as { code?: unknown }).code;
    const parseError = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
    if (!parseError && !(err instanceof EdgePotholeError)) throw err;

    process.stderr.write(`edge-pothole watch: ${describeError(err)}\n\n${USAGE}\n`);

    return EX_USAGE;
  }

  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);

    return 0;
  }

  return watch(options);
}
