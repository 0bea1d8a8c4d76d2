import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runCli } from '../helpers/cli';

/** The keys issue 6 names for `bench --json`, and the type each must have. */
const REQUIRED: Record<string, 'string' | 'count' | 'rate' | 'ms' | 'mb'> = {
  engine: 'string',
  backend: 'string',
  threads: 'count',
  workers: 'count',
  single_worker_frames_per_second: 'rate',
  pipeline_frames_per_second: 'rate',
  latency_ms_p50: 'ms',
  latency_ms_p95: 'ms',
  rss_mb_start: 'mb',
  rss_mb_end: 'mb',
};

function checkType(key: string, value: unknown, kind: (typeof REQUIRED)[string]): void {
  const where = `${key} = ${JSON.stringify(value)}`;
  if (kind === 'string') {
    assert.equal(typeof value, 'string', where);
    assert.ok((value as string).length > 0, where);

    return;
  }

  assert.equal(typeof value, 'number', where);
  assert.ok(Number.isFinite(value), where);
  if (kind === 'count') assert.ok(Number.isInteger(value) && (value as number) >= 1, where);
  if (kind === 'rate' || kind === 'mb') assert.ok((value as number) > 0, where);
  if (kind === 'ms') assert.ok((value as number) >= 0, where);
}

test('prints the table, then every required key in one JSON object on the last line', async () => {
  const result = await runCli(['bench', '--quick', '--json'], { timeoutMs: 300_000 });

  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  for (const [key, kind] of Object.entries(REQUIRED)) checkType(key, summary[key], kind);
  assert.ok(['onnxruntime', 'tfjs'].includes(summary.engine as string));
  assert.ok((summary.latency_ms_p95 as number) >= (summary.latency_ms_p50 as number));
  assert.ok(lines.some((line) => line.startsWith('machine ')), 'machine line');
  assert.ok(lines.some((line) => line.startsWith('pipeline ')), 'pipeline section');
  assert.ok(lines.some((line) => line.startsWith('backbone alone')), 'backbone section');
});

test('refuses an unknown engine, naming the flag and the value', async () => {
  const result = await runCli(['bench', '--engine', 'gpu']);

  assert.equal(result.code, 64);
  assert.equal(result.stderr,
    'edge-pothole bench: [EP_USAGE] --engine must be one of auto, onnxruntime, tfjs, got "gpu"\n');
});

test('refuses a frame count below one, naming the flag and the value', async () => {
  const result = await runCli(['bench', '--frames', '0']);

  assert.equal(result.code, 64);
  assert.equal(result.stderr,
    'edge-pothole bench: [EP_USAGE] --frames must be an integer >= 1, got "0"\n');
});
