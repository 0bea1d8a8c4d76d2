import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { Outbox } from '../../src/publish/outbox';
import { parseJournal } from '../../src/publish/outbox-journal';
import { EdgePotholeError } from '../../src/util/errors';

let tmp: string;
let dirCount = 0;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-outbox-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function stateDir(): string {
  dirCount += 1;

  return path.join(tmp, `state-${dirCount}`);
}

async function addAll(outbox: Outbox, count: number, first = 1): Promise<void> {
  const writes = [];
  for (let i = first; i < first + count; i += 1) {
    writes.push(outbox.add('edge-pothole/car/detections', { id: `id-${i}` }).written);
  }
  await Promise.all(writes);
}

function ids(outbox: Outbox): string[] {
  return outbox.after(0, 1000).map((e) => (JSON.parse(e.body) as { id: string }).id);
}

test('keeps every message not acknowledged across a close and a reopen, in order', async () => {
  const dir = stateDir();
  const first = await Outbox.open({ stateDir: dir });
  await addAll(first, 5);
  const [one, two] = first.after(0, 2);
  first.ack(one.seq);
  first.ack(two.seq);
  await first.close();

  const second = await Outbox.open({ stateDir: dir });
  assert.deepEqual(ids(second), ['id-3', 'id-4', 'id-5']);
  assert.equal(second.depth, 3);

  await addAll(second, 1, 6);
  assert.deepEqual(second.after(0, 10).map((e) => e.seq), [3, 4, 5, 6]);
  await second.close();
});

test('has every message on disk once its write resolved, without a close (kill -9)', async () => {
  const dir = stateDir();
  const outbox = await Outbox.open({ stateDir: dir });
  await addAll(outbox, 3);
  outbox.ack(1);

  // No close: read the file as a restarted process would after a crash.
  const text = await readFile(path.join(dir, 'outbox', 'journal.ndjson'), 'utf8');
  const { records } = parseJournal(text);
  assert.ok(records.length >= 2, 'the acknowledgement may or may not have reached the disk');
  assert.deepEqual(records.slice(-2).map((r) => JSON.parse(r.body).id), ['id-2', 'id-3']);
  await outbox.close();
});

test('skips a torn last line and appends cleanly after it', async () => {
  const dir = stateDir();
  const outbox = await Outbox.open({ stateDir: dir });
  await addAll(outbox, 2);
  await outbox.close();
  const journal = path.join(dir, 'outbox', 'journal.ndjson');
  await appendFile(journal, '{"op":"put","seq":3,"topic":"t","bo');

  const reopened = await Outbox.open({ stateDir: dir });
  await addAll(reopened, 1, 3);
  await reopened.close();

  const again = await Outbox.open({ stateDir: dir });
  assert.deepEqual(ids(again), ['id-1', 'id-2', 'id-3']);
  await again.close();
});

test('drops the oldest messages first when max_messages is exceeded, and counts them', async () => {
  const outbox = await Outbox.open({ stateDir: stateDir(), maxMessages: 3 });
  await addAll(outbox, 5);

  assert.deepEqual(ids(outbox), ['id-3', 'id-4', 'id-5']);
  assert.equal(outbox.droppedTotal, 2);
  await outbox.close();
});

test('drops messages older than max_age_seconds, on the clock it is given', async () => {
  let nowMs = 1_000_000;
  const outbox = await Outbox.open({ stateDir: stateDir(), maxAgeSeconds: 60, now: () => nowMs });
  await addAll(outbox, 2);
  nowMs += 30_000;
  await addAll(outbox, 1, 3);
  nowMs += 31_000;

  assert.equal(outbox.enforceBounds(), 2);
  assert.deepEqual(ids(outbox), ['id-3']);
  assert.equal(outbox.droppedTotal, 2);
  await outbox.close();
});

test('hands out only messages after a given seq, and none that is not yet on disk', async () => {
  const outbox = await Outbox.open({ stateDir: stateDir() });
  await addAll(outbox, 3);
  const { written } = outbox.add('t', { id: 'id-4' });

  assert.deepEqual(outbox.after(1, 10).map((e) => e.seq), [2, 3]);
  await written;
  assert.deepEqual(outbox.after(1, 10).map((e) => e.seq), [2, 3, 4]);
  await outbox.close();
});

test('refuses a state directory whose outbox a live process holds, naming that process',
  async () => {
    const dir = stateDir();
    await mkdir(path.join(dir, 'outbox'), { recursive: true });
    // PID 1 always runs.
    await writeFile(path.join(dir, 'outbox', 'lock'), '1\n');

    await assert.rejects(Outbox.open({ stateDir: dir }), (err: unknown) => {
      assert.ok(err instanceof EdgePotholeError);
      assert.equal(err.code, 'EP_CONFIG_INVALID');
      assert.equal(err.message, `state_dir outbox ${path.join(dir, 'outbox')} is in use by ` +
        'process 1; give each daemon its own state_dir');

      return true;
    });
  });

test('takes over the lock of a process that no longer runs', async () => {
  const dir = stateDir();
  await mkdir(path.join(dir, 'outbox'), { recursive: true });
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'],
    { encoding: 'utf8' }).stdout;
  await writeFile(path.join(dir, 'outbox', 'lock'), `${gone}\n`);

  const outbox = await Outbox.open({ stateDir: dir });
  const holder = (await readFile(path.join(dir, 'outbox', 'lock'), 'utf8')).trim();
  assert.equal(holder, String(process.pid));
  await outbox.close();
});

test('rejects a state directory it cannot write, with the code and the fix', async () => {
  const file = path.join(tmp, 'a-file');
  await writeFile(file, 'not a directory');

  await assert.rejects(Outbox.open({ stateDir: file }), {
    code: 'EP_CONFIG_INVALID',
    message: `state_dir outbox ${path.join(file, 'outbox')} cannot be written (ENOTDIR); ` +
      'set state_dir to a writable directory',
  });
});

test('rewrites its journal once thousands of messages are done, keeping the rest', async () => {
  const dir = stateDir();
  const outbox = await Outbox.open({ stateDir: dir });
  await addAll(outbox, 5002);
  for (const entry of outbox.after(0, 5000)) outbox.ack(entry.seq);
  await addAll(outbox, 1, 5003);
  await outbox.close();

  const journal = await readFile(path.join(dir, 'outbox', 'journal.ndjson'), 'utf8');
  assert.ok(journal.split('\n').length < 100, `${journal.split('\n').length} lines after rewrite`);
  const reopened = await Outbox.open({ stateDir: dir });
  assert.deepEqual(ids(reopened), ['id-5001', 'id-5002', 'id-5003']);
  await reopened.close();
});
