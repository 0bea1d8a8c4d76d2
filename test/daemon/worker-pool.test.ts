import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { DetectionMessage } from '../../src/publish/messages';
import { startTestBroker, subscribe, type TestBroker } from '../helpers/broker';
import { runCli } from '../helpers/cli';
import { SAMPLES_DIR } from '../helpers/paths';

let broker: TestBroker;
let tmp: string;

before(async () => {
  broker = await startTestBroker();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-pool-'));
});

after(async () => {
  await broker.close();
  await rm(tmp, { recursive: true, force: true });
});

async function detectionsWith(args: string[], vehicleId: string): Promise<DetectionMessage[]> {
  const sub = await subscribe(broker.url, `edge-pothole/${vehicleId}/detections`);
  const result = await runCli(['run', '--source', `dir:${SAMPLES_DIR}`, '--broker', broker.url,
    '--vehicle-id', vehicleId, '--state-dir', path.join(tmp, vehicleId), '--engine', 'tfjs',
    '--decide.window', '1', '--decide.min_frames', '1', ...args], { timeoutMs: 240_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await sub.close();
  assert.equal(result.code, 0, result.stderr.slice(-2000));

  return sub.messages.map((m) => m.payload as DetectionMessage);
}

test('with two tfjs workers the daemon infers two frames at once and keeps capture order',
  { timeout: 300_000 }, async () => {
    const pooled = await detectionsWith(['--infer.workers', '2'], `pool-${process.pid}`);
    const single = await detectionsWith(['--infer.workers', '1'], `single-${process.pid}`);

    const seqs = pooled.map((d) => d.frame_seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'published in capture order');
    assert.deepEqual(pooled.map((d) => [d.frame_seq, d.source]),
      single.map((d) => [d.frame_seq, d.source]), 'the same frames as one worker finds');
    pooled.forEach((d, i) => assert.ok(Math.abs(d.confidence - single[i].confidence) < 1e-4));
  });
