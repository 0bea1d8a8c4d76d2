import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { DetectionMessage, StatusMessage } from '../../src/publish/messages';
import { startTestBroker, subscribe, type TestBroker } from '../helpers/broker';
import { runCli } from '../helpers/cli';
import { SAMPLES_DIR, SHARED_ROADS_DIR, SHIPPED_MODEL_DIR, needsShared } from '../helpers/paths';

/** Photos per class copied from ../shared for the quick retrain; the samples stay unseen. */
const TRAIN_PER_CLASS = 40;

let broker: TestBroker;
let workDir: string;

before(async () => {
  broker = await startTestBroker();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-e2e-'));
});

after(async () => {
  await broker.close();
  await rm(workDir, { recursive: true, force: true });
});

/** Every 9th photo of each class (both source groups), so the small set is varied. */
async function copyTrainingSubset(target: string): Promise<void> {
  for (const label of ['normal', 'pothole']) {
    const names = (await readdir(path.join(SHARED_ROADS_DIR, label))).sort();
    const picked = names.filter((_, i) => i % 9 === 0).slice(0, TRAIN_PER_CLASS);
    for (const name of picked) {
      await cp(path.join(SHARED_ROADS_DIR, label, name), path.join(target, label, name));
    }
  }
}

async function runDaemonOnSamples(modelDir: string, vehicleId: string) {
  const subscriber = await subscribe(broker.url, `edge-pothole/${vehicleId}/#`);
  const result = await runCli([
    'run',
    '--source',
    `dir:${SAMPLES_DIR}`,
    '--broker',
    broker.url,
    '--model',
    modelDir,
    '--vehicle-id',
    vehicleId,
    '--threshold',
    '0.5',
    '--fps',
    '0',
    '--state-dir',
    path.join(workDir, 'state'),
  ]);
  // The daemon waits for every PUBACK before it exits, so all messages are in by now.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await subscriber.close();

  return { result, messages: subscriber.messages };
}

function checkDetectionFields(message: DetectionMessage, vehicleId: string): void {
  assert.match(message.id, /^[0-9a-f-]{36}$/);
  assert.equal(message.label, 'pothole');
  assert.ok(
    message.confidence >= 0.5 && message.confidence <= 1,
    `confidence ${message.confidence}`,
  );
  assert.deepEqual(Object.keys(message.scores).sort(), ['normal', 'pothole']);
  assert.ok(Math.abs(message.scores.normal + message.scores.pothole - 1) < 1e-4);
  assert.ok(!Number.isNaN(Date.parse(message.captured_at)), `captured_at ${message.captured_at}`);
  assert.equal(message.vehicle_id, vehicleId);
  assert.ok(message.source.startsWith(SAMPLES_DIR), `source ${message.source}`);
  assert.ok(Number.isInteger(message.frame_seq) && message.frame_seq >= 1);
  assert.match(message.model.sha256, /^[0-9a-f]{64}$/);
  assert.ok(message.latency_ms >= 0);
}

async function assertDaemonDetectsPotholes(modelDir: string): Promise<void> {
  const vehicleId = `e2e-${process.pid}-${Date.now()}`;
  const { result, messages } = await runDaemonOnSamples(modelDir, vehicleId);
  assert.equal(
    result.code,
    0,
    `daemon exit code ${result.code}\n${result.stderr}\n${result.stdout.slice(-2000)}`,
  );

  const statuses = messages
    .filter((m) => m.topic.endsWith('/status'))
    .map((m) => m.payload as StatusMessage);
  assert.deepEqual(
    statuses.map((s) => s.state),
    ['online', 'stopped'],
  );
  assert.ok(
    statuses[0].backend && statuses[0].version && statuses[0].model,
    JSON.stringify(statuses[0]),
  );

  const detections = messages
    .filter((m) => m.topic.endsWith('/detections'))
    .map((m) => m.payload as DetectionMessage);
  for (const detection of detections) checkDetectionFields(detection, vehicleId);
  assert.equal(new Set(detections.map((d) => d.id)).size, detections.length, 'ids are unique');

  const fromPotholes = detections.filter((d) =>
    d.source.includes(`${path.sep}pothole${path.sep}`),
  ).length;
  const fromNormal = detections.length - fromPotholes;
  assert.ok(fromPotholes >= 6, `only ${fromPotholes} of 12 pothole photos were detected`);
  assert.ok(fromNormal <= 3, `${fromNormal} of 12 normal road photos were called potholes`);
}

test(
  'a model retrained on real photos drives the daemon: potholes detected, most roads not',
  { skip: needsShared(), timeout: 600_000 },
  async () => {
    const imageDir = path.join(workDir, 'train');
    const modelDir = path.join(workDir, 'model');
    await copyTrainingSubset(imageDir);

    const trained = await runCli([
      'retrain',
      '--image_dir',
      imageDir,
      '--output_dir',
      modelDir,
      '--bottleneck_dir',
      path.join(workDir, 'bottlenecks'),
      '--how_many_training_steps',
      '500',
    ]);
    assert.equal(trained.code, 0, trained.stderr.slice(-3000));
    assert.match(trained.stdout, /Final test accuracy = \d+\.\d% \(N=\d+\)/);

    await assertDaemonDetectsPotholes(modelDir);
  },
);

test(
  'the shipped model drives the daemon on the shipped sample photos',
  { timeout: 300_000 },
  async () => {
    await assertDaemonDetectsPotholes(SHIPPED_MODEL_DIR);
  },
);
