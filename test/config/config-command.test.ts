import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { schema } from '../../src/config/schema';
import { REPO_ROOT } from '../helpers/paths';

let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-config-cmd-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** `edge-pothole config ...` without the EDGE_POTHOLE_* variables of the developer's shell. */
function config(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = Object.fromEntries(Object.entries(process.env)
    .filter(([name]) => !name.startsWith('EDGE_POTHOLE_')));
  const result = spawnSync(process.execPath, ['bin/edge-pothole.js', 'config', ...args],
    { cwd: REPO_ROOT, env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000 });

  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('prints the effective configuration with the password masked', async () => {
  const file = path.join(tmp, 'config.json');
  await writeFile(file, JSON.stringify({ vehicle_id: 'van-9', decide: { gap_frames: 5 } }));

  const { status, stdout, stderr } = config(['--config', file, '--threshold', '0.8'],
    { EDGE_POTHOLE_MQTT_PASSWORD: 'hunter2', EDGE_POTHOLE_OUTBOX_MAX_MESSAGES: '500' });
  assert.equal(status, 0, stderr);
  const printed = JSON.parse(stdout);

  assert.equal(printed.vehicle_id, 'van-9');
  assert.equal(printed.threshold, 0.8);
  assert.equal(printed.decide.gap_frames, 5);
  assert.equal(printed.outbox.max_messages, 500);
  assert.equal(printed.mqtt.password, '********');
  assert.ok(!stdout.includes('hunter2'));
});

test('--check prints nothing and exits 0 for a valid configuration', async () => {
  const file = path.join(tmp, 'valid.json');
  await writeFile(file, JSON.stringify({ source: { spec: 'file:/tmp/drive.mp4' } }));

  const { status, stdout } = config(['--check', '--config', file]);
  assert.equal(status, 0);
  assert.equal(stdout, '');
});

test('--check exits 78 and names the key and value when min_frames exceeds window', async () => {
  const file = path.join(tmp, 'invalid.json');
  await writeFile(file, JSON.stringify({ decide: { window: 2, min_frames: 3 } }));

  const { status, stderr } = config(['--check', '--config', file]);
  assert.equal(status, 78);
  assert.equal(stderr, `edge-pothole config: [EP_CONFIG_INVALID] invalid configuration ` +
    `(file ${file}):\ndecide.min_frames: must be at most decide.window (2): value was 3\n`);
});

test('--check exits 78 for an MQTT protocol version other than 4 or 5, naming both', () => {
  const { status, stderr } = config(['--check', '--mqtt.protocol_version', '3']);

  assert.equal(status, 78);
  assert.ok(stderr.includes(
    'mqtt.protocol_version: must be 4 (MQTT 3.1.1) or 5 (MQTT 5.0): value was 3'), stderr);
});

/** Every leaf of the schema, with its dotted path. */
type Leaf = [string, Record<string, unknown>];

function leaves(node: Record<string, unknown>, prefix = ''): Leaf[] {
  return Object.entries(node).flatMap(([key, value]) => {
    const child = value as Record<string, unknown>;
    const name = prefix ? `${prefix}.${key}` : key;

    return 'doc' in child ? [[name, child] as Leaf] : leaves(child, name);
  });
}

test('gives every key a doc, a default, an env var and a flag, except the password flag', () => {
  for (const [name, leaf] of leaves(schema)) {
    assert.ok(typeof leaf.doc === 'string' && leaf.doc.length > 10, `${name} has no doc`);
    assert.ok('default' in leaf, `${name} has no default`);
    assert.match(String(leaf.env), /^EDGE_POTHOLE_[A-Z0-9_]+$/, `${name} has no env var`);
    if (name === 'mqtt.password') assert.equal(leaf.arg, undefined, 'a password flag');
    else assert.ok(typeof leaf.arg === 'string', `${name} has no flag`);
  }
});

test('sets a boolean key to false from the command line, and names a bad boolean value', () => {
  const off = config(['--source.loop', 'false']);
  assert.equal(off.status, 0, off.stderr);
  assert.equal(JSON.parse(off.stdout).source.loop, false);

  const bare = config(['--source.loop']);
  assert.equal(JSON.parse(bare.stdout).source.loop, true);

  const bad = config(['--source.loop', 'maybe']);
  assert.equal(bad.status, 78);
  assert.match(bad.stderr,
    /source\.loop: must be true or false \(also 1\/0, yes\/no, on\/off\): value was "maybe"/);
});
