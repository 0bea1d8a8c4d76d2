import { existsSync } from 'node:fs';

import convict from 'convict';

import { EdgePotholeError } from '../util/errors';
import './formats';
import { schema } from './schema';

export const DEFAULT_CONFIG_FILE = '/etc/edge-pothole/config.json';

/** The validated, frozen configuration; runtime state lives elsewhere. See schema*.ts. */
export interface EdgePotholeConfig {
  vehicle_id: string;
  threshold: number;
  positive_label: string;
  state_dir: string;
  stats_interval_seconds: number;
  source: {
    spec: string; fps: number; loop: boolean; width: number; height: number;
    stall_seconds: number; warmup_frames: number; ffmpeg: string;
  };
  model: string;
  infer: {
    engine: 'auto' | 'onnxruntime' | 'tfjs';
    threads: number;
    workers: number;
    graph_weights: 'auto' | 'int8' | 'float32' | 'uint8' | 'float16';
  };
  preprocess: {
    roi: { left: number; top: number; width: number; height: number };
    tiles: { columns: number; rows: number };
  };
  decide: { window: number; min_frames: number; gap_frames: number };
  outbox: { max_messages: number; max_age_seconds: number; replay_per_second: number };
  publish: { drain_seconds: number };
  gps: { host: string; port: number; max_age_seconds: number };
  snapshot: { max_count: number; max_bytes: number };
  mqtt: {
    url: string;
    topic_prefix: string;
    protocol_version: 4 | 5;
    username: string;
    username_file: string;
    password: string;
    password_file: string;
    ca_file: string;
    cert_file: string;
    key_file: string;
    reconnect_max_seconds: number;
    embedded_broker: boolean;
  };
}

export interface LoadOptions {
  /** Config file; when absent, DEFAULT_CONFIG_FILE is read if it exists. */
  file?: string;
  /** Flag values keyed by their `arg` name in the schema (e.g. `broker`, `mqtt.topic_prefix`). */
  flags?: Record<string, string | boolean>;
  env?: NodeJS.ProcessEnv;
}

function invalid(message: string): EdgePotholeError {
  return new EdgePotholeError('EP_CONFIG_INVALID', message);
}

interface Leaf { env?: string; arg?: string; format?: unknown }

function leaves(node: Record<string, unknown>, prefix = ''): Array<[string, Leaf]> {
  return Object.entries(node).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const child = value as Record<string, unknown>;

    return 'doc' in child ? [[path, child as Leaf] as [string, Leaf]] : leaves(child, path);
  });
}

/** Every flag the schema accepts, by its `arg` name, with the kind of value it takes. */
export function configFlags(): Record<string, 'string' | 'boolean'> {
  const flags: Record<string, 'string' | 'boolean'> = {};
  for (const [, leaf] of leaves(schema)) {
    if (leaf.arg) flags[leaf.arg] = leaf.format === 'strict-boolean' ? 'boolean' : 'string';
  }

  return flags;
}

/**
 * EDGE_POTHOLE_* variables read outside the schema: logging, the graph cache, the test suite's
 * broker choice. Anything else with the prefix is a typo (EDGE_POTHOLE_TRESHOLD) that would
 * otherwise be ignored in silence.
 */
const OTHER_ENV = new Set(['EDGE_POTHOLE_LOG_LEVEL', 'EDGE_POTHOLE_CACHE_DIR',
  'EDGE_POTHOLE_TEST_BROKER']);

/** An empty env var is a mistake (a unit file's `Environment=X=`), not "true" or "0". */
function rejectBadEnv(env: NodeJS.ProcessEnv): void {
  const known = new Set(leaves(schema).map(([, leaf]) => leaf.env).filter(Boolean));
  const empty = [...known].filter((name) => env[name as string] === '');
  if (empty.length > 0) {
    throw invalid(`invalid configuration: environment variable ${empty.join(', ')} is set ` +
      'but empty; unset it or give it a value');
  }

  const unknown = Object.keys(env)
    .filter((name) => name.startsWith('EDGE_POTHOLE_') && !known.has(name) && !OTHER_ENV.has(name));
  if (unknown.length > 0) {
    throw invalid(`invalid configuration: unknown environment variable ${unknown.join(', ')}; ` +
      'docs/daemon.md lists every EDGE_POTHOLE_* variable');
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }

  return value;
}

/**
 * Loads defaults, the config file, env vars and flags, validates strictly (unknown keys and bad
 * values are errors, all reported at once with key, problem and value) and freezes the result.
 */
export function loadConfig(options: LoadOptions = {}): Readonly<EdgePotholeConfig> {
  const env = options.env ?? process.env;
  rejectBadEnv(env);

  const args = Object.entries(options.flags ?? {})
    .flatMap(([name, value]) => [`--${name}`, String(value)]);
  let config: convict.Config<EdgePotholeConfig>;
  try {
    const typed = schema as unknown as convict.Schema<EdgePotholeConfig>;
    config = convict<EdgePotholeConfig>(typed, { env, args });
  } catch (err) {
    throw invalid(`invalid configuration: ${(err as Error).message}`);
  }

  const file = options.file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file) {
    if (!existsSync(file)) throw invalid(`config file ${file} does not exist; fix --config`);
    try {
      config.loadFile(file);
    } catch (err) {
      throw invalid(`config file ${file} cannot be read: ${(err as Error).message}`);
    }
  }

  try {
    config.validate({ allowed: 'strict' });
  } catch (err) {
    const where = file ? ` (file ${file})` : '';
    throw invalid(`invalid configuration${where}:\n${(err as Error).message}`);
  }

  const properties = config.getProperties();
  checkCombinations(properties, file);

  return deepFreeze(properties);
}

/** Rules that involve two keys, which convict's per-key formats cannot express. */
function checkCombinations(config: EdgePotholeConfig, file: string | undefined): void {
  const problems: string[] = [];
  if (config.decide.min_frames > config.decide.window) {
    problems.push(`decide.min_frames: must be at most decide.window (${config.decide.window}): ` +
      `value was ${config.decide.min_frames}`);
  }
  const { roi, tiles } = config.preprocess;
  const outside = roi.left + roi.width > 1 + 1e-9 || roi.top + roi.height > 1 + 1e-9;
  if (outside || !roi.width || !roi.height) {
    problems.push('preprocess.roi: must lie inside the frame with a width and height above 0 ' +
      `(left + width <= 1, top + height <= 1): value was ${JSON.stringify(roi)}`);
  }
  for (const name of ['columns', 'rows'] as const) {
    if (tiles[name] > 8) {
      problems.push(`preprocess.tiles.${name}: must be at most 8: value was ${tiles[name]}`);
    }
  }
  if (problems.length > 0) {
    throw invalid(`invalid configuration${file ? ` (file ${file})` : ''}:\n${problems.join('\n')}`);
  }
}

/** The effective configuration with secrets masked, for `edge-pothole config` and logs. */
export function maskSecrets(config: Readonly<EdgePotholeConfig>): EdgePotholeConfig {
  const copy = JSON.parse(JSON.stringify(config)) as EdgePotholeConfig;
  if (copy.mqtt.password) copy.mqtt.password = '********';
  // A password can also ride in the broker URL (mqtt://user:secret@host).
  copy.mqtt.url = copy.mqtt.url.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1:********@');

  return copy;
}
