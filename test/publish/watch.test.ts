import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MqttPublisher } from '../../src/publish/mqtt-publisher';
import { startTestBroker, waitUntil, type TestBroker } from '../helpers/broker';
import { REPO_ROOT } from '../helpers/paths';

// `watch` is a CLI command (src/cli/watch.ts); its tests live here with the MQTT tests
// because they need the same test broker.

const BIN = path.join(REPO_ROOT, 'bin', 'edge-pothole.js');
const KILL_AFTER_MS = 10_000;

let broker: TestBroker;

before(async () => {
  broker = await startTestBroker();
});

after(async () => {
  await broker.close();
});

interface WatchRun {
  /** Resolves with the exit code, stdout and stderr once the process has exited. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** True once the watcher logged that it subscribed. */
  subscribed: () => boolean;
}

/** Runs `edge-pothole watch ...args` as a real process; killed after KILL_AFTER_MS. */
function watch(args: string[]): WatchRun {
  const child = spawn(process.execPath, [BIN, 'watch', ...args], {
    env: { ...process.env, EDGE_POTHOLE_LOG_LEVEL: 'info' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);

  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    },
  );

  return { done, subscribed: () => stderr.includes('"msg":"watching"') };
}

async function startedPublisher(vehicleId: string): Promise<MqttPublisher> {
  const publisher = new MqttPublisher({ brokerUrl: broker.url, vehicleId, reconnectPeriodMs: 100 });
  publisher.start();
  await waitUntil(() => publisher.connected);

  return publisher;
}

test('watch --count prints one "topic payload" line per message and exits 0', async () => {
  const publisher = await startedPublisher('w-1');
  const run = watch(['--broker', broker.url, '--vehicle-id', 'w-1', '--count', '2']);
  await waitUntil(() => run.subscribed());
  await publisher.publishJson('edge-pothole/w-1/events', { kind: 'test' });

  const { code, stdout } = await run.done;
  await publisher.stop();

  const lines = stdout.trim().split('\n');
  assert.equal(code, 0);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^edge-pothole\/w-1\/status \{"state":"online",/);
  assert.equal(lines[1], 'edge-pothole/w-1/events {"kind":"test"}');
});

test('watch --json prints the topic, the parsed payload and the retained flag', async () => {
  const publisher = await startedPublisher('w-2');
  await publisher.stop();

  const run = watch(['--broker', broker.url, '--vehicle-id', 'w-2', '--count', '1', '--json']);
  const { code, stdout } = await run.done;

  assert.equal(code, 0);
  const line = JSON.parse(stdout);
  assert.equal(line.topic, 'edge-pothole/w-2/status');
  assert.equal(line.payload.state, 'stopped');
  assert.equal(line.retained, true);
});

test('watch exits 3 when fewer than --count messages arrive before the timeout', async () => {
  const run = watch(['--broker', broker.url, '--vehicle-id', 'nobody', '--count', '1',
    '--timeout-seconds', '0.5']);

  const { code, stdout } = await run.done;

  assert.equal(code, 3);
  assert.equal(stdout, '');
});

test('watch rejects an unknown flag with exit code 64 and names the flag', async () => {
  const { code, stderr } = await watch(['--bogus']).done;

  assert.equal(code, 64);
  assert.match(stderr, /^edge-pothole watch: Unknown option '--bogus'/);
  assert.match(stderr, /usage: edge-pothole watch/);
});

test('watch rejects a vehicle id with a wildcard with exit code 64', async () => {
  const { code, stderr } = await watch(['--vehicle-id', 'a/#']).done;

  assert.equal(code, 64);
  assert.match(stderr, /--vehicle-id must be one non-empty MQTT topic level .* received "a\/#"/);
});

test('watch exits 69 when the broker cannot be reached', async () => {
  await broker.stop();
  try {
    const { code, stderr } = await watch(['--broker', broker.url]).done;

    assert.equal(code, 69);
    assert.match(stderr, /cannot reach mqtt:\/\/127\.0\.0\.1:\d+\/?: connect ECONNREFUSED/);
  } finally {
    await broker.start();
  }
});

test('watch --help prints the usage on stdout and exits 0', async () => {
  const { code, stdout } = await watch(['--help']).done;

  assert.equal(code, 0);
  assert.match(stdout, /^usage: edge-pothole watch \[options\]/);
});
