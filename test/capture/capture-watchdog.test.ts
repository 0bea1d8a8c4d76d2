import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isStalled, restartDelayMs, stateAfterExit } from '../../src/capture/capture-watchdog';

const END = { finite: false, exitCode: 1, killedForStall: false, frames: 10, closing: false };

test('counts a capture as stalled once stall_seconds pass without a frame', () => {
  assert.equal(isStalled(1000, 20_999, 20_000), false);
  assert.equal(isStalled(1000, 21_000, 20_000), true);
});

test('doubles the wait between restarts from 1 s and caps it at 30 s', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(restartDelayMs),
    [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
});

test('reports a finished video file and our own close as ended', () => {
  assert.equal(stateAfterExit({ ...END, finite: true, exitCode: 0 }), 'ended');
  assert.equal(stateAfterExit({ ...END, closing: true }), 'ended');
});

test('reports a capture killed by the watchdog as stalled, even a finite one', () => {
  assert.equal(stateAfterExit({ ...END, finite: true, exitCode: null, killedForStall: true }),
    'stalled');
});

test('reports a capture that never gave a frame as unavailable, one that broke off as stalled',
  () => {
  assert.equal(stateAfterExit({ ...END, frames: 0 }), 'unavailable');
  assert.equal(stateAfterExit(END), 'stalled');
});
