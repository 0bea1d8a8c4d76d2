import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { DetectionMessage } from '../../src/publish/messages';
import { startDaemon } from '../daemon/daemon-process';
import { freePort, subscribe, waitUntil } from '../helpers/broker';
import { SAMPLES_DIR } from '../helpers/paths';

/**
 * The broker a fleet would run: mosquitto over TLS only, with a private CA, client
 * certificates required, and a user name and password. Certificates are made here with
 * openssl; the test skips visibly without mosquitto or openssl.
 */

const PASSWORD = 'pw-7f3c9e1d-never-in-logs';
const POTHOLE = path.join(SAMPLES_DIR, 'pothole',
  'img-186_jpg.rf.c92da8640fbc8d6ebd694b814c6dd8bb.jpg');

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']
  .find((file) => existsSync(file));

function missingTools(): string | false {
  if (!MOSQUITTO) return 'needs mosquitto (apt-get install mosquitto)';
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    return 'needs openssl';
  }

  return false;
}

let tmp: string;
let port: number;
let broker: ChildProcess | undefined;

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCertificates(dir: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj',
    '/CN=edge-pothole test CA', '-keyout', 'ca.key', '-out', 'ca.pem']);
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'car-7']]) {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`,
      '-keyout', `${name}.key`, '-out', `${name}.csr`]);
    const ext = `${name}.ext`;
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${ext}`], { cwd: dir });
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key',
      '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.pem`]);
  }
}

before(async () => {
  if (missingTools()) return;

  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-tls-'));
  makeCertificates(tmp);
  execFileSync('mosquitto_passwd', ['-b', '-c', path.join(tmp, 'passwd'), 'car-7', PASSWORD]);
  port = await freePort();
  await writeFile(path.join(tmp, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`,
    `cafile ${tmp}/ca.pem`, `certfile ${tmp}/server.pem`, `keyfile ${tmp}/server.key`,
    'require_certificate true', 'allow_anonymous false', `password_file ${tmp}/passwd`,
    `user ${os.userInfo().username}`, 'log_dest stderr', ''].join('\n'));
  broker = spawn(MOSQUITTO as string, ['-c', path.join(tmp, 'mosquitto.conf')],
    { stdio: 'ignore' });
  process.once('exit', () => broker?.kill('SIGKILL'));
  await new Promise((resolve) => setTimeout(resolve, 500));
});

after(async () => {
  broker?.kill('SIGTERM');
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function tlsSubscriber(filter: string) {
  return subscribe(`mqtts://127.0.0.1:${port}`, filter, { protocolVersion: 5,
    ca: await readFile(path.join(tmp, 'ca.pem')),
    cert: await readFile(path.join(tmp, 'client.pem')),
    key: await readFile(path.join(tmp, 'client.key')), username: 'car-7', password: PASSWORD });
}

/** One pothole photo replayed forever; 1 of 1 so that every frame is a detection. */
function daemonArgs(vehicleId: string): string[] {
  return ['--source', `image:${POTHOLE}`, '--source.loop', '--fps', '2',
    '--broker', `mqtts://127.0.0.1:${port}`, '--vehicle-id', vehicleId,
    '--state-dir', path.join(tmp, vehicleId), '--decide.window', '1', '--decide.min_frames', '1',
    '--mqtt.protocol_version', '5', '--mqtt.ca_file', path.join(tmp, 'ca.pem'),
    '--mqtt.cert_file', path.join(tmp, 'client.pem'), '--mqtt.username', 'car-7'];
}

test('publishes over TLS with a client certificate and MQTT 5, the password and key coming ' +
  'from systemd credentials, and logs neither', { skip: missingTools(), timeout: 60_000 },
async () => {
  const credentials = path.join(tmp, 'credentials');
  await mkdir(credentials, { recursive: true });
  await writeFile(path.join(credentials, 'mqtt_password'), `${PASSWORD}\n`);
  await writeFile(path.join(credentials, 'mqtt_key'), await readFile(path.join(tmp, 'client.key')));
  const sub = await tlsSubscriber('edge-pothole/tls-car/detections');
  const daemon = startDaemon(daemonArgs('tls-car'), { env: { CREDENTIALS_DIRECTORY: credentials,
    EDGE_POTHOLE_LOG_LEVEL: 'debug' } });

  try {
    const [received] = await sub.waitFor(1, 40_000);
    assert.equal((received.payload as DetectionMessage).vehicle_id, 'tls-car');
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr());

    const output = JSON.stringify(daemon.logs) + daemon.stderr();
    assert.ok(!output.includes(PASSWORD), 'the password appears in the log');
    assert.ok(!output.includes('PRIVATE KEY'), 'the key appears in the log');
  } finally {
    daemon.child.kill('SIGKILL');
    await sub.close();
  }
});

test('reports a refused password once as an error and never logs it', { skip: missingTools(),
  timeout: 60_000 }, async () => {
  const wrong = 'wrong-9b2e4-never-in-logs';
  const daemon = startDaemon([...daemonArgs('tls-refused'), '--mqtt.key_file',
    path.join(tmp, 'client.key')], { env: { EDGE_POTHOLE_MQTT_PASSWORD: wrong,
    EDGE_POTHOLE_LOG_LEVEL: 'debug' } });

  try {
    const refused = 'broker refused the connection; retrying';
    await waitUntil(() => daemon.logs.some((l) => l.msg === refused), 40_000);
    // Several retries happen meanwhile; the refusal is reported once.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr());

    const refusals = daemon.logs.filter((l) => l.msg === 'broker refused the connection; retrying');
    assert.equal(refusals.length, 1);
    const output = JSON.stringify(daemon.logs) + daemon.stderr();
    assert.ok(!output.includes(wrong), 'the password appears in the log');
  } finally {
    daemon.child.kill('SIGKILL');
  }
});
