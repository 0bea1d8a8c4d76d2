import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { mostPositiveTile } from '../../src/daemon/frame-loop';
import type { DetectionMessage } from '../../src/publish/messages';
import { startTestBroker, subscribe, type TestBroker } from '../helpers/broker';
import { runCli } from '../helpers/cli';
import { SAMPLES_DIR } from '../helpers/paths';

let broker: TestBroker;
let tmp: string;

before(async () => {
  broker = await startTestBroker();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-tiles-'));
});

after(async () => {
  await broker.close();
  await rm(tmp, { recursive: true, force: true });
});

test('takes the frame\'s scores from the tile most sure of the positive label', () => {
  const tiles = [Float32Array.from([0.9, 0.1]), Float32Array.from([0.2, 0.8]),
    Float32Array.from([0.6, 0.4])];

  const best = mostPositiveTile(tiles, 1);
  assert.equal(best.tile, 1);
  assert.deepEqual([...best.probabilities], [...tiles[1]]);
});

test('the daemon cuts the road region into tiles and names the tile in each detection',
  { timeout: 120_000 }, async () => {
    const vehicleId = `tiles-${process.pid}`;
    const sub = await subscribe(broker.url, `edge-pothole/${vehicleId}/detections`);
    const result = await runCli(['run', '--source', `dir:${path.join(SAMPLES_DIR, 'pothole')}`,
      '--broker', broker.url, '--vehicle-id', vehicleId, '--state-dir', path.join(tmp, 'state'),
      '--preprocess.roi.top', '0.3', '--preprocess.roi.height', '0.7',
      '--preprocess.tiles.columns', '2', '--decide.min_frames', '1', '--decide.window', '1']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sub.close();

    assert.equal(result.code, 0, result.stderr.slice(-2000));
    const detections = sub.messages.map((m) => m.payload as DetectionMessage);
    assert.ok(detections.length > 0, 'some pothole photo is detected in a tile');
    for (const detection of detections) assert.ok(detection.tile === 0 || detection.tile === 1);
  });
