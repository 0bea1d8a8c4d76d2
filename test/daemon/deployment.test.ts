import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { REPO_ROOT } from '../helpers/paths';

const UNIT = path.join(REPO_ROOT, 'systemd', 'edge-pothole.service');
const INSTALL = path.join(REPO_ROOT, 'scripts', 'install-service.sh');

let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-deploy-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function noSystemdAnalyze(): string | false {
  return spawnSync('systemd-analyze', ['--version']).status === 0
    ? false : 'needs systemd-analyze (the systemd package)';
}

/** `Key=value` lines of the unit, by key; a key given twice keeps every value. */
async function unitSettings(): Promise<Map<string, string[]>> {
  const settings = new Map<string, string[]>();
  for (const line of (await readFile(UNIT, 'utf8')).split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) settings.set(match[1], [...(settings.get(match[1]) ?? []), match[2]]);
  }

  return settings;
}

test('the unit passes systemd-analyze verify', { skip: noSystemdAnalyze() }, () => {
  const result = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });

  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr.trim(), '');
});

test('the unit restarts forever, is hardened, keeps secrets off the command line and ' +
  'pings the watchdog as a notify service', async () => {
  const unit = await unitSettings();
  const one = (key: string) => unit.get(key)?.[0];

  assert.equal(one('Restart'), 'always');
  assert.equal(one('StartLimitIntervalSec'), '0');
  assert.equal(one('Type'), 'notify');
  assert.equal(one('NotifyAccess'), 'all');
  assert.ok(Number(one('WatchdogSec')) >= 60);
  for (const key of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome']) {
    assert.equal(one(key), 'yes', key);
  }
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('SupplementaryGroups'), 'video');
  assert.match(one('ReadWritePaths') ?? '', /\/var\/lib\/edge-pothole/);
  assert.equal(one('LoadCredential'), 'mqtt_password:/etc/edge-pothole/mqtt_password');
  assert.doesNotMatch(one('ExecStart') ?? '', /password/i);
  assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
});

test('install-service.sh installs app, config, secret and unit under a root, runs again ' +
  'without touching the config, and the installed app validates that config',
{ timeout: 120_000 }, async () => {
  const root = path.join(tmp, 'root');
  const install = () => execFileSync('bash', [INSTALL, '--root', root, '--link', '--skip-user'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  install();
  const config = path.join(root, 'etc', 'edge-pothole', 'config.json');
  const edited = JSON.stringify({ vehicle_id: 'van-12', source: { spec: 'v4l2:/dev/video1' } });
  await writeFile(config, edited);
  const output = install();

  assert.match(output, /kept .*config\.json/);
  assert.equal(await readFile(config, 'utf8'), edited);
  assert.equal((await stat(path.join(root, 'etc', 'edge-pothole', 'mqtt_password'))).mode & 0o777,
    0o600);
  assert.deepEqual(await readFile(path.join(root, 'etc', 'systemd', 'system',
    'edge-pothole.service')), await readFile(UNIT));
  const check = spawnSync(process.execPath, [path.join(root, 'opt', 'edge-pothole', 'bin',
    'edge-pothole.js'), 'config', '--config', config], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(check.status, 0, check.stderr);
  assert.equal(JSON.parse(check.stdout).vehicle_id, 'van-12');
});
