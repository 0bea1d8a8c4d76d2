import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { parseJournal } from '../../src/publish/outbox-journal';
import {
  startTestBroker, subscribe, waitUntil, type Received, type TestBroker,
} from '../helpers/broker';
import { SAMPLES_DIR } from '../helpers/paths';
import { journalIds, startDaemon } from './daemon-process';

/** The figure: the broker is away this long while the car keeps detecting. */
const OUTAGE_MS = 30_000;
/** When, into the outage, the first daemon is killed with SIGKILL. */
const KILL_AFTER_MS = 12_000;

let broker: TestBroker;
let tmp: string;

before(async () => {
  broker = await startTestBroker();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-outage-'));
});

after(async () => {
  await broker.close();
  await rm(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Detection ids and `event:<id>` keys in order of first arrival (QoS 1 may repeat). */
function firstArrivals(messages: Received[]): string[] {
  const seen = new Set<string>();
  for (const { topic, payload } of messages) {
    const body = payload as { id?: string; event_id?: string };
    if (topic.endsWith('/detections')) seen.add(body.id as string);
    if (topic.endsWith('/events')) seen.add(`event:${body.event_id}`);
  }

  return [...seen];
}

function daemonArgs(vehicleId: string, stateDir: string, extra: string[] = []): string[] {
  return ['--source', `dir:${SAMPLES_DIR}`, '--source.loop', '--fps', '4', '--broker', broker.url,
    '--vehicle-id', vehicleId, '--state-dir', stateDir, '--stats_interval_seconds', '0',
    '--mqtt.reconnect_max_seconds', '1', ...extra];
}

async function undelivered(stateDir: string): Promise<string[]> {
  const text = await readFile(path.join(stateDir, 'outbox', 'journal.ndjson'), 'utf8');

  return parseJournal(text).records.map((r) => {
    const body = JSON.parse(r.body) as { id?: string; event_id?: string };

    return body.id ?? `event:${body.event_id}`;
  });
}

test('delivers every detection and event in capture order after a 30 s broker outage ' +
  'during which the daemon is killed with SIGKILL and restarted', { timeout: 150_000 },
async (t) => {
  const vehicleId = `outage-${process.pid}`;
  const stateDir = path.join(tmp, 'state-kill');
  const sub = await subscribe(broker.url, `edge-pothole/${vehicleId}/+`,
    { clientId: `ep-test-${randomUUID().slice(0, 8)}`, clean: false });
  const first = startDaemon(daemonArgs(vehicleId, stateDir));
  let second: ReturnType<typeof startDaemon> | undefined;

  try {
    await waitUntil(() => firstArrivals(sub.messages).length >= 2, 60_000);
    await broker.stop();
    const outageStartedAt = Date.now();
    const beforeOutage = firstArrivals(sub.messages).length;

    await sleep(KILL_AFTER_MS);
    first.child.kill('SIGKILL');
    await first.exited;
    const before = await journalIds(stateDir);
    second = startDaemon(daemonArgs(vehicleId, stateDir));

    await sleep(OUTAGE_MS - (Date.now() - outageStartedAt));
    const producedDuringOutage = (await journalIds(stateDir)).length;
    await broker.start();

    // Everything the first daemon wrote, then what the second wrote, arrives.
    await waitUntil(() => before.every((id) => firstArrivals(sub.messages).includes(id)), 30_000);
    const stopAt = Date.now();
    second.child.kill('SIGTERM');
    const exit = await second.exited;
    assert.equal(exit.code, 0, second.stderr());
    assert.ok(Date.now() - stopAt < 10_000, 'SIGTERM took 10 s or more');

    const all = [...new Set([...before, ...(await journalIds(stateDir))])];
    const left = await undelivered(stateDir);
    assert.deepEqual(all.slice(all.length - left.length), left,
      'only the newest messages may still wait on disk');
    const delivered = all.slice(0, all.length - left.length);
    assert.ok(before.length > beforeOutage, 'the first daemon produced nothing in the outage');
    assert.ok(producedDuringOutage > before.length, 'the second daemon produced nothing');
    t.diagnostic(`delivered before the outage ${beforeOutage}, written by the killed daemon ` +
      `${before.length}, by both until the broker returned ${producedDuringOutage}, ` +
      `in all ${all.length}, left on disk at exit ${left.length}`);
    await waitUntil(() => firstArrivals(sub.messages).length >= delivered.length, 5000);
    assert.deepEqual(firstArrivals(sub.messages), delivered);
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGKILL');
    await sub.close();
  }
});

test('a finite source that ends while the broker is down exits after drain_seconds, and the ' +
  'next start delivers what was left, in order', { timeout: 120_000 }, async () => {
  const vehicleId = `drain-${process.pid}`;
  const stateDir = path.join(tmp, 'state-drain');
  const sub = await subscribe(broker.url, `edge-pothole/${vehicleId}/+`,
    { clientId: `ep-test-${randomUUID().slice(0, 8)}`, clean: false });
  await broker.stop();

  try {
    const offline = startDaemon(['--source', `dir:${SAMPLES_DIR}`, '--broker', broker.url,
      '--vehicle-id', vehicleId, '--state-dir', stateDir, '--publish.drain_seconds', '1',
      '--stats_interval_seconds', '0']);
    assert.equal((await offline.exited).code, 0, offline.stderr());
    const left = await undelivered(stateDir);
    assert.ok(left.length >= 7, `only ${left.length} messages were left on disk`);
    assert.ok(left.some((id) => id.startsWith('event:')), 'no event was left on disk');

    await broker.start();
    const normal = (await readdir(path.join(SAMPLES_DIR, 'normal')))[0];
    const next = startDaemon(['--source', `image:${path.join(SAMPLES_DIR, 'normal', normal)}`,
      '--broker', broker.url, '--vehicle-id', vehicleId, '--state-dir', stateDir,
      '--stats_interval_seconds', '0']);
    assert.equal((await next.exited).code, 0, next.stderr());

    await waitUntil(() => firstArrivals(sub.messages).length >= left.length, 5000);
    assert.deepEqual(firstArrivals(sub.messages), left);
    assert.deepEqual(await undelivered(stateDir), []);
  } finally {
    await sub.close();
  }
});
