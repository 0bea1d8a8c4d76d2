import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { MqttPublisher } from '../../src/publish/mqtt-publisher';
import { Outbox } from '../../src/publish/outbox';
import { OutboxSender } from '../../src/publish/outbox-sender';
import {
  startTestBroker, subscribe, waitUntil, type Received, type TestBroker,
} from '../helpers/broker';

let broker: TestBroker;
let tmp: string;

before(async () => {
  broker = await startTestBroker();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-sender-'));
});

after(async () => {
  await broker.close();
  await rm(tmp, { recursive: true, force: true });
});

/** Ids in order of first arrival: QoS 1 may repeat one, subscribers drop repeats by id. */
function firstArrivals(messages: Received[]): string[] {
  const seen = new Set<string>();
  for (const { payload } of messages) seen.add((payload as { id: string }).id);

  return [...seen];
}

async function persistentSubscriber(vehicleId: string) {
  return subscribe(broker.url, `edge-pothole/${vehicleId}/detections`,
    { clientId: `ep-test-${randomUUID().slice(0, 8)}`, clean: false });
}

async function pipeline(vehicleId: string, ratePerSecond = 200) {
  const outbox = await Outbox.open({ stateDir: path.join(tmp, vehicleId) });
  const publisher = new MqttPublisher({ brokerUrl: broker.url, vehicleId, reconnectPeriodMs: 100,
    reconnectMaxMs: 200, stopTimeoutMs: 500 });
  const sender = new OutboxSender(outbox, publisher, { ratePerSecond, maxInFlight: 8 });
  publisher.start();
  sender.start();
  await waitUntil(() => publisher.connected);

  return {
    outbox, publisher, sender,
    close: async () => {
      sender.stop();
      await publisher.stop();
      await outbox.close();
    },
  };
}

test('delivers in order every message queued before, during and after a broker outage',
  { timeout: 30_000 }, async () => {
    const sub = await persistentSubscriber('sender-1');
    const p = await pipeline('sender-1');
    const sent: string[] = [];
    const send = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const id = `m-${sent.length + 1}`;
        sent.push(id);
        // Not awaited one by one: messages pile up in flight as they would at 10 fps.
        void p.sender.send('edge-pothole/sender-1/detections', { id });
      }
    };

    try {
      await send(20);
      await broker.stop();
      await send(30);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await broker.start();
      await send(10);

      assert.equal(await p.sender.drain(10_000), true, 'the outbox did not empty');
      await waitUntil(() => firstArrivals(sub.messages).length >= sent.length, 10_000);
      assert.deepEqual(firstArrivals(sub.messages), sent);
      assert.equal(p.outbox.depth, 0);
    } finally {
      await Promise.all([sub.close(), p.close()]);
    }
  });

test('replays a backlog no faster than replay_per_second', { timeout: 20_000 }, async () => {
  const sub = await persistentSubscriber('sender-2');
  await broker.stop();
  const p = await (async () => {
    const outbox = await Outbox.open({ stateDir: path.join(tmp, 'sender-2') });
    await Promise.all(Array.from({ length: 30 }, (_, i) =>
      outbox.add('edge-pothole/sender-2/detections', { id: `b-${i + 1}` }).written));
    const publisher = new MqttPublisher({ brokerUrl: broker.url, vehicleId: 'sender-2',
      reconnectPeriodMs: 100, reconnectMaxMs: 200, stopTimeoutMs: 500 });

    return { outbox, publisher, sender: new OutboxSender(outbox, publisher,
      { ratePerSecond: 20, maxInFlight: 5 }) };
  })();

  try {
    p.publisher.start();
    p.sender.start();
    await broker.start();
    await waitUntil(() => p.publisher.connected, 5000);
    const startedAt = Date.now();
    assert.equal(await p.sender.drain(10_000), true);
    const elapsedMs = Date.now() - startedAt;

    // 5 at once (the burst), then 25 at 20/s: at least 1.25 s.
    assert.ok(elapsedMs >= 1150, `30 messages at 20/s took only ${elapsedMs} ms`);
    await waitUntil(() => firstArrivals(sub.messages).length >= 30, 5000);
    const expected = Array.from({ length: 30 }, (_, i) => `b-${i + 1}`);
    assert.deepEqual(firstArrivals(sub.messages), expected);
  } finally {
    p.sender.stop();
    await Promise.all([sub.close(), p.publisher.stop()]);
    await p.outbox.close();
  }
});

test('drain gives up after its timeout and leaves the messages in the outbox',
  { timeout: 10_000 }, async () => {
    const p = await pipeline('sender-3');
    try {
      await broker.stop();
      await waitUntil(() => !p.publisher.connected);
      await p.sender.send('edge-pothole/sender-3/detections', { id: 'x' });

      const startedAt = Date.now();
      assert.equal(await p.sender.drain(300), false);
      assert.ok(Date.now() - startedAt < 1000);
      assert.equal(p.outbox.depth, 1);
    } finally {
      await p.close();
      await broker.start();
    }
  });
