import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { EdgePotholeError } from '../util/errors';
import type { EdgePotholeConfig } from './load';

/**
 * The broker credentials and TLS material, read at start from the config, from files, or
 * from systemd credentials (`LoadCredential=mqtt_password:/etc/edge-pothole/mqtt_password`
 * makes systemd expose the file as `$CREDENTIALS_DIRECTORY/mqtt_password`, readable by the
 * service alone). Values are returned, never logged; errors name the key and the path only.
 */

export interface MqttSecrets {
  username?: string;
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** systemd credential names read when the matching key is not set. */
export const CREDENTIAL_NAMES = {
  username: 'mqtt_username',
  password: 'mqtt_password',
  key: 'mqtt_key',
} as const;

function invalid(message: string, cause?: unknown): EdgePotholeError {
  return new EdgePotholeError('EP_CONFIG_INVALID', message, { cause });
}

async function readSecretFile(key: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw invalid(`${key}: file ${file} cannot be read (${code}); fix the path or its ` +
      'permissions (the service user must be able to read it)', err);
  }
}

/** A systemd credential's path when the directory is set and the file exists. */
function credential(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) return undefined;

  const file = path.join(dir, name);

  return existsSync(file) ? file : undefined;
}

/** The first line of a secret file: editors and `echo` add a trailing newline. */
async function firstLine(key: string, file: string): Promise<string> {
  return (await readSecretFile(key, file)).toString('utf8').split(/\r?\n/)[0];
}

async function textSecret(key: string, value: string, fileKey: string, file: string,
  fallback: string | undefined): Promise<string | undefined> {
  if (value !== '' && file !== '') {
    throw invalid(`${key} and ${fileKey} are both set; keep one of them`);
  }
  if (value !== '') return value;

  const source = file !== '' ? file : fallback;
  if (source === undefined) return undefined;

  // An empty file means none: the service unit always loads the credential file.
  const line = await firstLine(fileKey, source);

  return line === '' ? undefined : line;
}

async function tlsMaterial(mqtt: EdgePotholeConfig['mqtt'], env: NodeJS.ProcessEnv):
Promise<MqttSecrets['tls']> {
  const keyFile = mqtt.key_file || (mqtt.cert_file ? credential(env, CREDENTIAL_NAMES.key) : '');
  if (Boolean(mqtt.cert_file) !== Boolean(keyFile)) {
    throw invalid('mqtt.cert_file and mqtt.key_file: give both or neither (a client ' +
      'certificate needs its key); values were ' +
      `${JSON.stringify(mqtt.cert_file)} and ${JSON.stringify(mqtt.key_file)}`);
  }

  const tls: NonNullable<MqttSecrets['tls']> = {};
  if (mqtt.ca_file) tls.ca = await readSecretFile('mqtt.ca_file', mqtt.ca_file);
  if (mqtt.cert_file) tls.cert = await readSecretFile('mqtt.cert_file', mqtt.cert_file);
  if (keyFile) tls.key = await readSecretFile('mqtt.key_file', keyFile);

  return Object.keys(tls).length > 0 ? tls : undefined;
}

/** Reads what the `mqtt` section points at; throws EP_CONFIG_INVALID naming key and path. */
export async function readMqttSecrets(mqtt: EdgePotholeConfig['mqtt'],
  env: NodeJS.ProcessEnv = process.env): Promise<MqttSecrets> {
  const username = await textSecret('mqtt.username', mqtt.username, 'mqtt.username_file',
    mqtt.username_file, credential(env, CREDENTIAL_NAMES.username));
  const password = await textSecret('mqtt.password', mqtt.password, 'mqtt.password_file',
    mqtt.password_file, credential(env, CREDENTIAL_NAMES.password));

  return { username, password, tls: await tlsMaterial(mqtt, env) };
}
