import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { SystemdNotifier } from '../../src/daemon/systemd-notify';
import { waitUntil } from '../helpers/broker';
import { SAMPLES_DIR } from '../helpers/paths';
import { startDaemon } from './daemon-process';

let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-notify-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const SYSTEMD_ENV = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '800000' };

test('sends no keep-alive in a period without inferred frames, one after frames moved', () => {
  const notifier = new SystemdNotifier({ env: SYSTEMD_ENV });
  notifier.markReady('test');

  assert.deepEqual(notifier.nextNotification(), ['READY=1']);
  notifier.markProgress();
  notifier.markProgress();
  assert.deepEqual(notifier.nextNotification(), ['READY=1', 'WATCHDOG=1']);
  assert.deepEqual(notifier.nextNotification(), ['READY=1']);
  notifier.markStopping();
});

test('sends no keep-alive without WatchdogSec, and nothing at all outside systemd', () => {
  const noWatchdog = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify' } });
  noWatchdog.markProgress();
  assert.deepEqual(noWatchdog.nextNotification(), []);

  assert.equal(new SystemdNotifier({ env: {} }).active, false);
});

test('the daemon tells systemd READY after start, keep-alives while frames move, STOPPING on ' +
  'SIGTERM', { timeout: 60_000 }, async () => {
  const record = path.join(tmp, 'notifications');
  const binDir = path.join(tmp, 'bin');
  await import('node:fs/promises').then((fs) => fs.mkdir(binDir, { recursive: true }));
  await writeFile(path.join(binDir, 'systemd-notify'),
    `#!/bin/sh\necho "$*" >> "${record}"\n`);
  await chmod(path.join(binDir, 'systemd-notify'), 0o755);
  const daemon = startDaemon(['--source', `dir:${SAMPLES_DIR}`, '--source.loop', '--fps', '4',
    '--broker', 'mqtt://127.0.0.1:9', '--vehicle-id', 'notify-car',
    '--state-dir', path.join(tmp, 'state')],
  { env: { ...SYSTEMD_ENV, PATH: `${binDir}${path.delimiter}${process.env.PATH}` } });
  const lines = async () => (await readFile(record, 'utf8').catch(() => '')).trim().split('\n');

  try {
    await waitUntil(() => daemon.logs.some((l) => l.msg === 'daemon started'), 40_000);
    for (let i = 0; i < 100 && !(await lines()).some((l) => l.includes('WATCHDOG=1')); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.stderr());

    const sent = await lines();
    const pid = `--pid=${daemon.child.pid}`;
    assert.match(sent[0], new RegExp(`^${pid} READY=1 STATUS=model pothole, source dir:`));
    assert.ok(sent.some((l) => l === `${pid} READY=1 WATCHDOG=1`), sent.join('\n'));
    assert.equal(sent.at(-1), `${pid} STOPPING=1 STATUS=stopping`);
  } finally {
    daemon.child.kill('SIGKILL');
  }
});
