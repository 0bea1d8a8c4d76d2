import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decideFrame } from '../../src/decide/threshold';

const LABELS = ['normal', 'pothole'];

test('detects a frame whose pothole score equals the threshold', () => {
  const decision = decideFrame([0.3, 0.7], LABELS, 'pothole', 0.7);

  assert.deepEqual(decision, {
    detected: true,
    label: 'pothole',
    confidence: 0.7,
    scores: { normal: 0.3, pothole: 0.7 },
  });
});

test('does not detect a frame whose pothole score is just below the threshold', () => {
  const decision = decideFrame([0.31, 0.69], LABELS, 'pothole', 0.7);

  assert.equal(decision.detected, false);
  assert.equal(decision.label, 'pothole');
  assert.equal(decision.confidence, 0.69);
});

test('detects a frame whose pothole score is above the threshold', () => {
  assert.equal(decideFrame([0.05, 0.95], LABELS, 'pothole', 0.7).detected, true);
});

test('detects the positive label under a low threshold even when another scores higher', () => {
  const decision = decideFrame([0.6, 0.4], LABELS, 'pothole', 0.3);

  assert.equal(decision.detected, true);
  assert.equal(decision.label, 'pothole');
  assert.equal(decision.confidence, 0.4);
});

test('finds the positive label wherever it sits among three labels', () => {
  const decision = decideFrame([0.1, 0.8, 0.1], ['crack', 'pothole', 'normal'], 'pothole', 0.5);

  assert.equal(decision.detected, true);
  assert.deepEqual(decision.scores, { crack: 0.1, pothole: 0.8, normal: 0.1 });
});

test('rejects a positive label the model does not have, listing the labels it has', () => {
  assert.throws(() => decideFrame([0.5, 0.5], LABELS, 'Pothole', 0.5), {
    code: 'EP_CONFIG_INVALID',
    message: 'positive_label "Pothole" is not among the model\'s labels (normal, pothole); ' +
      'set positive_label to one of them',
  });
});
