import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { EdgePotholeConfig } from '../../src/config/load';
import { readMqttSecrets } from '../../src/config/secrets';

let tmp: string;
let credentials: string;

const NONE: EdgePotholeConfig['mqtt'] = {
  url: 'mqtts://127.0.0.1:8883', topic_prefix: 'edge-pothole', protocol_version: 5,
  username: '', username_file: '', password: '', password_file: '', ca_file: '', cert_file: '',
  key_file: '', reconnect_max_seconds: 30, embedded_broker: false,
};

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-secrets-'));
  credentials = path.join(tmp, 'credentials');
  await mkdir(credentials);
  await writeFile(path.join(credentials, 'mqtt_password'), 'from-systemd\n');
  await writeFile(path.join(credentials, 'mqtt_username'), 'car-7\n');
  await writeFile(path.join(credentials, 'mqtt_key'), 'KEY PEM');
  await writeFile(path.join(tmp, 'password'), 'from-file\r\nsecond line ignored\n');
  await writeFile(path.join(tmp, 'cert.pem'), 'CERT PEM');
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('reads nothing when nothing is configured and systemd passed no credentials', async () => {
  assert.deepEqual(await readMqttSecrets(NONE, {}),
    { username: undefined, password: undefined, tls: undefined });
});

test('takes the password from the env var value as it is', async () => {
  const secrets = await readMqttSecrets({ ...NONE, password: 'from-env' }, {});

  assert.equal(secrets.password, 'from-env');
});

test('takes the first line of mqtt.password_file', async () => {
  const secrets = await readMqttSecrets({ ...NONE, password_file: path.join(tmp, 'password') }, {});

  assert.equal(secrets.password, 'from-file');
});

test('falls back to the systemd credentials mqtt_username, mqtt_password and mqtt_key',
  async () => {
  const secrets = await readMqttSecrets({ ...NONE, cert_file: path.join(tmp, 'cert.pem') },
    { CREDENTIALS_DIRECTORY: credentials });

  assert.equal(secrets.username, 'car-7');
  assert.equal(secrets.password, 'from-systemd');
  assert.deepEqual(secrets.tls, { cert: Buffer.from('CERT PEM'), key: Buffer.from('KEY PEM') });
});

test('refuses a password given both as a value and as a file', async () => {
  await assert.rejects(readMqttSecrets({ ...NONE, password: 'a', password_file: '/x' }, {}), {
    code: 'EP_CONFIG_INVALID',
    message: 'mqtt.password and mqtt.password_file are both set; keep one of them',
  });
});

test('names the key and the path of a secret file it cannot read, never its content', async () => {
  const missing = path.join(tmp, 'missing');

  await assert.rejects(readMqttSecrets({ ...NONE, password_file: missing }, {}), {
    code: 'EP_CONFIG_INVALID',
    message: `mqtt.password_file: file ${missing} cannot be read (ENOENT); fix the path or its ` +
      'permissions (the service user must be able to read it)',
  });
});

test('refuses a client certificate without its key', async () => {
  const cert = path.join(tmp, 'cert.pem');

  await assert.rejects(readMqttSecrets({ ...NONE, cert_file: cert }, {}), {
    code: 'EP_CONFIG_INVALID',
    message: 'mqtt.cert_file and mqtt.key_file: give both or neither (a client certificate ' +
      `needs its key); values were ${JSON.stringify(cert)} and ""`,
  });
});
