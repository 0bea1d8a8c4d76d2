import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { DetectionMessage } from '../../src/publish/messages';
import { MqttPublisher } from '../../src/publish/mqtt-publisher';
import {
  startTestBroker,
  subscribe,
  waitUntil,
  type Received,
  type TestBroker,
} from '../helpers/broker';

/** The compiled publisher, for a child process that a test can kill. */
const PUBLISHER_JS = path.join(__dirname, '..', '..', 'src', 'publish', 'mqtt-publisher.js');

let broker: TestBroker;

before(async () => {
  broker = await startTestBroker();
});

after(async () => {
  await broker.close();
});

function detection(vehicleId: string, frameSeq: number): DetectionMessage {
  return {
    id: randomUUID(),
    label: 'pothole',
    confidence: 0.9,
    scores: { pothole: 0.9, road: 0.1 },
    captured_at: new Date().toISOString(),
    vehicle_id: vehicleId,
    source: 'test',
    frame_seq: frameSeq,
    model: { name: 'pothole', sha256: '00'.repeat(32) },
    latency_ms: 5,
  };
}

/** Payloads in arrival order, each id kept once. */
function distinctById(messages: Received[]): DetectionMessage[] {
  const byId = new Map<string, DetectionMessage>();
  for (const { payload } of messages) {
    const msg = payload as DetectionMessage;
    if (!byId.has(msg.id)) byId.set(msg.id, msg);
  }

  return [...byId.values()];
}

test('delivers the retained Last Will offline when the publishing process is killed',
  async () => {
    const status = await subscribe(broker.url, 'edge-pothole/van-1/status');
    // A real crash: SIGKILL gives the process no chance to send DISCONNECT.
    const script =
      'const { MqttPublisher } = require(process.env.PUBLISHER_JS);' +
      'new MqttPublisher({ brokerUrl: process.env.BROKER_URL, vehicleId: "van-1" }).start();' +
      'setInterval(() => {}, 1000);';
    const child = spawn(process.execPath, ['-e', script], {
      stdio: 'ignore',
      env: { ...process.env, PUBLISHER_JS, BROKER_URL: broker.url },
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));

    try {
      await status.waitFor(1);
      child.kill('SIGKILL');
      await exited;
      await status.waitFor(2);
    } finally {
      child.kill('SIGKILL');
    }

    const late = await subscribe(broker.url, 'edge-pothole/van-1/status');
    const [retained] = await late.waitFor(1);
    await Promise.all([status.close(), late.close()]);

    assert.equal((status.messages[0].payload as { state: string }).state, 'online');
    assert.deepEqual(status.messages[1].payload, { state: 'offline' });
    assert.equal(retained.retain, true);
    assert.deepEqual(retained.payload, { state: 'offline' });
  });

test('waits for a broker that is down at start and announces online once it is up', async () => {
  await broker.stop();
  const p = new MqttPublisher({
    brokerUrl: broker.url,
    vehicleId: 'van-2',
    reconnectPeriodMs: 100,
  });

  try {
    p.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(p.connected, false);

    await broker.start();
    const status = await subscribe(broker.url, 'edge-pothole/van-2/status');
    const [online] = await status.waitFor(1);
    await status.close();
    assert.equal((online.payload as { state: string }).state, 'online');
  } finally {
    await p.stop();
  }
});

test('delivers in order the detections published while the broker was down', async () => {
  // A persistent session (clean: false) so the broker queues what arrives while this
  // subscriber is still reconnecting after the outage.
  const sub = await subscribe(broker.url, 'edge-pothole/van-3/detections', {
    clientId: `ep-test-${randomUUID().slice(0, 8)}`,
    clean: false,
  });
  const p = new MqttPublisher({
    brokerUrl: broker.url,
    vehicleId: 'van-3',
    reconnectPeriodMs: 100,
  });
  p.start();
  await waitUntil(() => p.connected);

  try {
    await broker.stop();
    await waitUntil(() => !p.connected);
    const sent = [1, 2, 3, 4, 5].map((seq) => detection('van-3', seq));
    const acknowledged = Promise.all(sent.map((msg) => p.publishDetection(msg)));
    await broker.start();

    await acknowledged;
    // QoS 1 allows duplicates, and aedes sends one when a message races the subscriber's
    // session resumption; subscribers de-duplicate by id, as the contract tells them to.
    await waitUntil(() => distinctById(sub.messages).length >= 5, 10_000);
    assert.deepEqual(distinctById(sub.messages), sent);
  } finally {
    await Promise.all([sub.close(), p.stop()]);
  }
});

test('rejects detections still unacknowledged when stop gives up on an absent broker',
  async () => {
    await broker.stop();
    const p = new MqttPublisher({
      brokerUrl: broker.url,
      vehicleId: 'van-4',
      reconnectPeriodMs: 100,
      stopTimeoutMs: 300,
    });
    p.start();

    try {
      const publishing = p.publishDetection(detection('van-4', 1));
      const started = Date.now();
      await p.stop();

      assert.ok(Date.now() - started < 2000, 'stop() was not bounded by stopTimeoutMs');
      await assert.rejects(publishing, {
        message:
          'MQTT publish to edge-pothole/van-4/detections was not acknowledged: ' +
          'the publisher stopped first',
      });
    } finally {
      await broker.start();
    }
  });
