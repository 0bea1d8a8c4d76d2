import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, test } from 'node:test';
import type { DetectionMessage } from '../../src/publish/messages';
import { MqttPublisher, type MqttPublisherOptions } from '../../src/publish/mqtt-publisher';
import { startTestBroker, subscribe, waitUntil, type TestBroker } from '../helpers/broker';

const MODEL = { name: 'pothole', sha256: 'ab'.repeat(32) };
const STATUS_INFO = { version: '0.1.0', backend: 'tfjs/wasm', model: MODEL };

let broker: TestBroker;
const publishers: MqttPublisher[] = [];

before(async () => {
  broker = await startTestBroker();
});

after(async () => {
  await Promise.all(publishers.map((p) => p.stop()));
  await broker.close();
});

/** A publisher for this test file, stopped in after(); each test uses its own vehicle. */
function publisher(vehicleId: string, options: Partial<MqttPublisherOptions> = {}) {
  const p = new MqttPublisher({
    brokerUrl: broker.url,
    vehicleId,
    reconnectPeriodMs: 100,
    stopTimeoutMs: 1000,
    statusInfo: STATUS_INFO,
    ...options,
  });
  publishers.push(p);

  return p;
}

function detection(vehicleId: string, frameSeq: number): DetectionMessage {
  return {
    id: randomUUID(),
    label: 'pothole',
    confidence: 0.93,
    scores: { pothole: 0.93, road: 0.07 },
    captured_at: '2026-03-01T08:15:00.000Z',
    vehicle_id: vehicleId,
    source: '/dev/video0',
    frame_seq: frameSeq,
    model: MODEL,
    latency_ms: 41,
  };
}

/**
 * A TCP relay to the broker whose broker-to-client direction can be held back, so that a
 * test can see the broker accept a PUBLISH while its PUBACK has not reached the client.
 */
async function holdableRelay(targetPort: number) {
  let holding = false;
  const held: Array<() => void> = [];
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port: targetPort });
    inbound.pipe(outbound);
    outbound.on('data', (chunk) => {
      if (holding) held.push(() => inbound.write(chunk));
      else inbound.write(chunk);
    });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `mqtt://127.0.0.1:${port}`,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      held.splice(0).forEach((write) => write());
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

test('publishes a retained online status with version, backend and model after connecting',
  async () => {
    const live = await subscribe(broker.url, 'edge-pothole/truck-1/status');
    publisher('truck-1').start();
    const [online] = await live.waitFor(1);

    const late = await subscribe(broker.url, 'edge-pothole/truck-1/status');
    const [retained] = await late.waitFor(1);
    await Promise.all([live.close(), late.close()]);

    assert.equal(retained.retain, true);
    assert.deepEqual(retained.payload, online.payload);
    const { at, ...rest } = retained.payload as Record<string, unknown>;
    assert.deepEqual(rest, { state: 'online', ...STATUS_INFO });
    assert.ok(!Number.isNaN(Date.parse(String(at))), `at is not a date: ${String(at)}`);
  });

test('delivers a published detection with every field intact', async () => {
  const sub = await subscribe(broker.url, 'edge-pothole/truck-2/detections');
  const p = publisher('truck-2');
  p.start();
  const sent = detection('truck-2', 1);

  await p.publishDetection(sent);
  const [received] = await sub.waitFor(1);
  await sub.close();

  assert.equal(received.topic, 'edge-pothole/truck-2/detections');
  assert.equal(received.retain, false);
  assert.deepEqual(received.payload, sent);
});

test('resolves publishDetection only once the PUBACK reaches the publisher', async () => {
  const relay = await holdableRelay(broker.port);
  const sub = await subscribe(broker.url, 'edge-pothole/truck-3/detections');
  const p = publisher('truck-3', { brokerUrl: relay.url });
  p.start();
  await waitUntil(() => p.connected);

  relay.hold();
  let acknowledged = false;
  const publishing = p.publishDetection(detection('truck-3', 1)).then(() => {
    acknowledged = true;
  });
  await sub.waitFor(1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(acknowledged, false, 'resolved although the PUBACK was held back');

  relay.release();
  await publishing;
  assert.equal(acknowledged, true);
  await Promise.all([sub.close(), p.stop()]);
  await relay.close();
});

test('publishes a retained stopped status on stop and no Last Will', async () => {
  const live = await subscribe(broker.url, 'edge-pothole/truck-4/status');
  const p = publisher('truck-4');
  p.start();
  await live.waitFor(1);

  await p.stop();
  await live.waitFor(2);
  // Give a wrongly sent Last Will the time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const late = await subscribe(broker.url, 'edge-pothole/truck-4/status');
  const [retained] = await late.waitFor(1);
  await Promise.all([live.close(), late.close()]);

  const states = live.messages.map((m) => (m.payload as { state: string }).state);
  assert.deepEqual(states, ['online', 'stopped']);
  assert.equal(retained.retain, true);
  assert.equal((retained.payload as { state: string }).state, 'stopped');
  assert.equal(p.connected, false);
});

test('rejects the vehicle id "a/+" with EP_CONFIG_INVALID naming the value', () => {
  assert.throws(() => new MqttPublisher({ vehicleId: 'a/+' }), {
    name: 'EdgePotholeError',
    code: 'EP_CONFIG_INVALID',
    message:
      'vehicleId must be one non-empty MQTT topic level without "/", "+" or "#"; received "a/+"',
  });
});

test('rejects an empty vehicle id and a topic prefix with "#"', () => {
  assert.throws(() => new MqttPublisher({ vehicleId: '' }), { code: 'EP_CONFIG_INVALID' });
  assert.throws(() => new MqttPublisher({ vehicleId: 'truck-5', topicPrefix: 'fleet/#' }), {
    code: 'EP_CONFIG_INVALID',
    message:
      'topicPrefix must be non-empty MQTT topic levels separated by "/", without "+", "#", ' +
      'empty levels or a leading "$"; received "fleet/#"',
  });
});

test('publishes under a multi-level topic prefix', async () => {
  const sub = await subscribe(broker.url, 'fleet/north/edge-pothole/truck-6/detections');
  const p = publisher('truck-6', { topicPrefix: 'fleet/north/edge-pothole' });
  p.start();

  await p.publishDetection(detection('truck-6', 1));
  const [received] = await sub.waitFor(1);
  await sub.close();

  assert.equal((received.payload as DetectionMessage).vehicle_id, 'truck-6');
});
