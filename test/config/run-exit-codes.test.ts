import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

import { REPO_ROOT } from '../helpers/paths';

describe('edge-pothole run with bad settings', () => {
  /** The CLI without any EDGE_POTHOLE_* variable of the developer's shell. */
  function runCli(args: string[]): { status: number | null; stderr: string } {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('EDGE_POTHOLE_')),
    );
    const result = spawnSync(process.execPath, ['bin/edge-pothole.js', 'run', ...args], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });

    return { status: result.status, stderr: result.stderr };
  }

  test('exits 78 (EX_CONFIG) for --threshold 2 and names threshold and the value', () => {
    const { status, stderr } = runCli(['--threshold', '2']);

    assert.equal(status, 78, stderr);
    assert.match(
      stderr,
      new RegExp('\\[EP_CONFIG_INVALID\\] invalid configuration:\n' +
        'threshold: must be a number from 0 to 1: value was 2'),
    );
  });

  test(
    'exits 64 (EX_USAGE) for an unknown flag and names it',
    {},
    () => {
      const { status, stderr } = runCli(['--bogus', '1']);

      assert.match(stderr, /Unknown option '--bogus'/);
      assert.equal(status, 64, stderr);
    },
  );
});
