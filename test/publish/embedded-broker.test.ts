import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MqttPublisher } from '../../src/publish/mqtt-publisher';
import { startEmbeddedBrokerIfAbsent } from '../../src/publish/embedded-broker';
import { freePort, startTestBroker, subscribe } from '../helpers/broker';

test('starts an embedded broker on a free loopback port that carries detections', async () => {
  const port = await freePort();
  const broker = await startEmbeddedBrokerIfAbsent({ host: '127.0.0.1', port });
  assert.ok(broker, 'no broker started although the port was free');
  assert.equal(broker.url, `mqtt://127.0.0.1:${port}`);

  const publisher = new MqttPublisher({ brokerUrl: broker.url, vehicleId: 'demo' });
  try {
    const sub = await subscribe(broker.url, 'edge-pothole/demo/status');
    publisher.start();
    const [online] = await sub.waitFor(1);
    await sub.close();
    assert.equal((online.payload as { state: string }).state, 'online');
  } finally {
    await publisher.stop();
    await broker.close();
  }
});

test('returns undefined when a broker already listens on the port', async () => {
  const existing = await startTestBroker();

  try {
    const broker = await startEmbeddedBrokerIfAbsent({ port: existing.port });
    assert.equal(broker, undefined);
  } finally {
    await existing.close();
  }
});

test('refuses to bind the embedded broker to a non-loopback address', async () => {
  const host = '0.0.0.0' as '127.0.0.1';

  await assert.rejects(startEmbeddedBrokerIfAbsent({ host, port: 1883 }), {
    code: 'EP_CONFIG_INVALID',
    message:
      'embedded broker host must be a loopback address (127.0.0.1, ::1 or localhost); ' +
      'received "0.0.0.0"',
  });
});
