import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { DetectionMessage, StatsMessage, StatusMessage } from '../../src/publish/messages';
import { startTestBroker, subscribe, waitUntil, type TestBroker } from '../helpers/broker';
import { SAMPLES_DIR, SHIPPED_MODEL_DIR } from '../helpers/paths';
import { logged, startDaemon, type DaemonProcess } from './daemon-process';

/** The bound: SIGTERM to exit, seconds. */
const STOP_BOUND_MS = 10_000;

let broker: TestBroker;
let tmp: string;

before(async () => {
  broker = await startTestBroker();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-life-'));
});

after(async () => {
  await broker.close();
  await rm(tmp, { recursive: true, force: true });
});

function looping(vehicleId: string, extra: string[] = []): DaemonProcess {
  return startDaemon(['--source', `dir:${SAMPLES_DIR}`, '--source.loop', '--fps', '4',
    '--broker', broker.url, '--vehicle-id', vehicleId, '--state-dir', path.join(tmp, vehicleId),
    '--mqtt.reconnect_max_seconds', '1', ...extra]);
}

async function stopWithin(daemon: DaemonProcess, signal: NodeJS.Signals) {
  const sentAt = Date.now();
  daemon.child.kill(signal);
  const exit = await daemon.exited;

  return { ...exit, elapsedMs: Date.now() - sentAt };
}

test('publishes stats with every field, then stops on SIGTERM within 10 s with exit 0 and ' +
  'a retained stopped status', { timeout: 60_000 }, async (t) => {
  const sub = await subscribe(broker.url, 'edge-pothole/life-1/+');
  const daemon = looping('life-1', ['--stats_interval_seconds', '1']);

  try {
    await waitUntil(() => sub.messages.some((m) => m.topic.endsWith('/stats') &&
      (m.payload as StatsMessage).frames_total > 0), 40_000);
    const { code, elapsedMs } = await stopWithin(daemon, 'SIGTERM');

    assert.equal(code, 0, daemon.stderr());
    assert.ok(elapsedMs < STOP_BOUND_MS, `exit took ${elapsedMs} ms`);
    t.diagnostic(`SIGTERM to exit: ${elapsedMs} ms`);
    const stats = sub.messages.filter((m) => m.topic.endsWith('/stats'))
      .map((m) => m.payload as StatsMessage).find((s) => s.frames_total > 0) as StatsMessage;
    assert.deepEqual(Object.keys(stats).sort(), ['at', 'backend', 'camera', 'capture_fps',
      'detections_total', 'dropped_frames_total', 'events_total', 'frames_total',
      'inference_fps', 'inference_ms_p50', 'inference_ms_p95', 'memory_heap_used_bytes',
      'memory_rss_bytes', 'outbox_depth', 'outbox_dropped_total', 'suppressed_frames_total',
      'unreadable_frames_total', 'uptime_seconds']);
    assert.ok(stats.inference_fps > 0 && stats.capture_fps > 0, JSON.stringify(stats));
    assert.ok((stats.inference_ms_p50 as number) <= (stats.inference_ms_p95 as number));
    assert.equal(stats.camera, 'running');
    assert.ok(stats.memory_rss_bytes > stats.memory_heap_used_bytes);

    await waitUntil(() => sub.messages.some((m) => m.topic.endsWith('/status') &&
      (m.payload as StatusMessage).state === 'stopped'), 2000);
  } finally {
    daemon.child.kill('SIGKILL');
    await sub.close();
  }
});

test('stops on SIGINT within 10 s with exit 0 while the broker is down', { timeout: 60_000 },
  async (t) => {
    const daemon = looping('life-2');
    try {
      await waitUntil(() => logged(daemon, 'daemon started'), 40_000);
      await broker.stop();
      await new Promise((resolve) => setTimeout(resolve, 1500));

      const { code, elapsedMs } = await stopWithin(daemon, 'SIGINT');
      assert.equal(code, 0, daemon.stderr());
      assert.ok(elapsedMs < STOP_BOUND_MS, `exit took ${elapsedMs} ms`);
      t.diagnostic(`SIGINT to exit with the broker down: ${elapsedMs} ms`);
    } finally {
      daemon.child.kill('SIGKILL');
      await broker.start();
    }
  });

/** A valid model that differs from the shipped one: its output bias is nudged. */
async function nudgeBias(modelDir: string): Promise<string> {
  const file = path.join(modelDir, 'weights.bin');
  const weights = await readFile(file);
  const bias = weights.length - 8;
  weights.writeFloatLE(weights.readFloatLE(bias) + 0.01, bias);
  await writeFile(file, weights);

  return createHash('sha256').update(weights).digest('hex');
}

test('reloads the model on SIGHUP without reconnecting, and keeps the old one when the new ' +
  'one is broken', { timeout: 90_000 }, async () => {
  const modelDir = path.join(tmp, 'model');
  await cp(SHIPPED_MODEL_DIR, modelDir, { recursive: true });
  const sub = await subscribe(broker.url, 'edge-pothole/life-3/detections');
  const daemon = looping('life-3', ['--model', modelDir]);
  const shas = () => sub.messages.map((m) => (m.payload as DetectionMessage).model.sha256);

  try {
    await waitUntil(() => sub.messages.length > 0, 40_000);
    const original = shas()[0];

    await writeFile(path.join(modelDir, 'labels.txt'), 'normal\npothole\nmanhole\n');
    daemon.child.kill('SIGHUP');
    const refused = 'model reload failed; keeping the previous model';
    await waitUntil(() => logged(daemon, refused), 20_000);
    const failure = daemon.logs.find((l) => l.msg === refused);
    assert.equal(failure?.err, `model directory ${modelDir}: labels.txt has 3 labels but the ` +
      'model has 2 outputs; retrain it with "edge-pothole retrain"');
    const seen = sub.messages.length;
    await waitUntil(() => sub.messages.length > seen, 20_000);
    assert.equal(shas().at(-1), original, 'the old model must keep working');

    await writeFile(path.join(modelDir, 'labels.txt'), 'normal\npothole\n');
    const nudged = await nudgeBias(modelDir);
    daemon.child.kill('SIGHUP');
    await waitUntil(() => logged(daemon, 'model reloaded'), 20_000);
    await waitUntil(() => shas().at(-1) === nudged, 20_000);

    assert.equal(daemon.logs.filter((l) => l.msg === 'broker connected').length, 1,
      'the broker connection was dropped');
    assert.equal((await stopWithin(daemon, 'SIGTERM')).code, 0, daemon.stderr());
  } finally {
    daemon.child.kill('SIGKILL');
    await sub.close();
  }
});
