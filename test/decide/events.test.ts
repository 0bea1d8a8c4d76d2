import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  finishTracker, initialTracker, trackFrame, type EventSettings, type EventSummary,
  type TrackerState,
} from '../../src/decide/events';

const TWO_OF_THREE: EventSettings = { threshold: 0.5, window: 3, minFrames: 2, gapFrames: 3 };

interface Outcome {
  released: Array<[string, string]>;
  closed: Array<EventSummary<string>>;
  suppressed: number;
}

/**
 * Feeds scores as frames 1, 2, ... (captured one second apart); a frame's item is `f<n>`
 * and the event a frame would open is `e<n>`. Ends the sequence when `finish` is set.
 */
function run(scores: number[], settings = TWO_OF_THREE, finish = false): Outcome {
  let state: TrackerState<string> = initialTracker();
  const outcome: Outcome = { released: [], closed: [], suppressed: 0 };

  scores.forEach((confidence, i) => {
    const n = i + 1;
    const frame = { confidence, capturedAt: new Date(n * 1000),
      item: confidence >= settings.threshold ? `f${n}` : undefined };
    const step = trackFrame(state, frame, settings, `e${n}`);
    state = step.state;
    outcome.released.push(...step.released.map((r): [string, string] => [r.item, r.eventId]));
    if (step.closed) outcome.closed.push(step.closed);
    outcome.suppressed += step.suppressed;
  });
  if (finish) {
    const end = finishTracker(state, settings);
    if (end.closed) outcome.closed.push(end.closed);
    outcome.suppressed += end.suppressed;
  }

  return outcome;
}

test('opens an event when 2 of the last 3 frames reach the threshold and releases both', () => {
  const { released, closed } = run([0.1, 0.8, 0.2, 0.7]);

  assert.deepEqual(released, [['f2', 'e4'], ['f4', 'e4']]);
  assert.deepEqual(closed, []);
});

test('does not open an event for a single frame above the threshold and counts it', () => {
  const { released, closed, suppressed } = run([0.1, 0.9, 0.1, 0.2, 0.1]);

  assert.deepEqual(released, []);
  assert.deepEqual(closed, []);
  assert.equal(suppressed, 1);
});

test('counts a frame exactly at the threshold as above it', () => {
  assert.deepEqual(run([0.5, 0.5]).released, [['f1', 'e2'], ['f2', 'e2']]);
});

test('closes after gap_frames below and reports start, end, frame count and peak', () => {
  const { closed, released } = run([0.6, 0.9, 0.7, 0.1, 0.2, 0.3, 0.1]);

  assert.deepEqual(released.map(([item]) => item), ['f1', 'f2', 'f3']);
  assert.deepEqual(closed, [{ eventId: 'e2', startedAt: new Date(1000), endedAt: new Date(3000),
    frameCount: 3, peakConfidence: 0.9, peakItem: 'f2' }]);
});

test('keeps an event open through fewer than gap_frames frames below the threshold', () => {
  const { closed, released } = run([0.8, 0.8, 0.1, 0.1, 0.95, 0.1, 0.1, 0.1]);

  assert.deepEqual(released, [['f1', 'e2'], ['f2', 'e2'], ['f5', 'e2']]);
  assert.equal(closed.length, 1);
  assert.equal(closed[0].frameCount, 3);
  assert.equal(closed[0].peakItem, 'f5');
  assert.deepEqual(closed[0].endedAt, new Date(5000));
});

test('starts the next event afresh: frames of a closed event do not count towards it', () => {
  const settings = { ...TWO_OF_THREE, gapFrames: 1 };
  const { closed, released } = run([0.9, 0.9, 0.1, 0.9, 0.1, 0.9, 0.9], settings, true);

  // f2 was part of e2, so f4 alone does not reopen at frame 4; f4 and f6 open e6.
  assert.deepEqual(closed.map((c) => [c.eventId, c.frameCount]), [['e2', 2], ['e6', 3]]);
  assert.deepEqual(released,
    [['f1', 'e2'], ['f2', 'e2'], ['f4', 'e6'], ['f6', 'e6'], ['f7', 'e6']]);
});

test('keeps the first of equal peaks as the peak frame', () => {
  const { closed } = run([0.8, 0.8, 0.8], TWO_OF_THREE, true);

  assert.equal(closed[0].peakItem, 'f1');
});

test('closes the open event at the end of the source and counts waiting frames', () => {
  assert.deepEqual(run([0.9, 0.9], TWO_OF_THREE, true).closed.map((c) => c.eventId), ['e2']);
  assert.equal(run([0.1, 0.9], TWO_OF_THREE, true).suppressed, 1);
});

test('turns every frame above the threshold into its own event with 1 of 1 and gap 1', () => {
  const settings = { threshold: 0.5, window: 1, minFrames: 1, gapFrames: 1 };
  const { released, closed } = run([0.9, 0.1, 0.7, 0.8, 0.2], settings, true);

  assert.deepEqual(released, [['f1', 'e1'], ['f3', 'e3'], ['f4', 'e3']]);
  assert.deepEqual(closed.map((c) => [c.eventId, c.frameCount]), [['e1', 1], ['e3', 2]]);
});

test('opens with 3 of 5 only once the third frame above the threshold arrives', () => {
  const settings = { threshold: 0.5, window: 5, minFrames: 3, gapFrames: 2 };

  assert.deepEqual(run([0.9, 0.1, 0.9, 0.1], settings).released, []);
  assert.deepEqual(run([0.9, 0.1, 0.9, 0.1, 0.9], settings).released.map(([i]) => i),
    ['f1', 'f3', 'f5']);
  assert.deepEqual(run([0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9], settings).released, []);
});
