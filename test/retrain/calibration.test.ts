import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyHead, softmax, type SoftmaxHead } from '../../src/infer/head';
import { SeededRandom } from '../../src/util/random';
import {
  expectedCalibrationError, fitTemperature, logitsOf, reliabilityTable, scaleHead,
} from '../../src/retrain/calibration';

const head: SoftmaxHead = {
  featureLength: 3,
  classes: 2,
  kernel: Float32Array.from([1, -1, 0.5, 0.25, -2, 2]),
  bias: Float32Array.from([0.1, -0.1]),
};

test('logitsOf gives the logits whose softmax is applyHead', () => {
  const features = Float32Array.from([0.3, 1.2, -0.7]);

  const fromLogits = softmax(logitsOf(head, features));
  const direct = applyHead(head, features);
  fromLogits.forEach((value, i) => assert.ok(Math.abs(value - direct[i]) < 1e-6));
});

test('scaleHead divides the logits by the temperature and keeps the winning class', () => {
  const features = Float32Array.from([0.3, 1.2, -0.7]);

  const scaled = logitsOf(scaleHead(head, 2), features);
  const original = logitsOf(head, features);
  scaled.forEach((value, i) => assert.ok(Math.abs(value - original[i] / 2) < 1e-6));
});

test('fits a temperature above 1 for an overconfident model and below 1 for a timid one', () => {
  // Labels drawn with the true probabilities softmax(z); logits are z scaled by 3 or by 1/3.
  const random = new SeededRandom(11);
  const truth: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const z = Float32Array.from([random.normal(), random.normal()]);
    truth.push(z);
    labels.push(random.next() < softmax(z)[1] ? 1 : 0);
  }

  const overconfident = fitTemperature(truth.map((z) => z.map((v) => v * 3)), labels);
  const timid = fitTemperature(truth.map((z) => z.map((v) => v / 3)), labels);
  assert.ok(Math.abs(overconfident - 3) < 0.4, `temperature ${overconfident}`);
  assert.ok(Math.abs(timid - 1 / 3) < 0.05, `temperature ${timid}`);
});

test('measures the calibration error as the weighted gap between confidence and accuracy', () => {
  // Four predictions at 0.9 confidence, two of them right: a gap of 0.4 in one bin.
  const scores = [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9]];
  const labels = [0, 1, 1, 0];

  const table = reliabilityTable(scores, labels);
  assert.equal(table[9].count, 4);
  assert.equal(table[9].accuracy, 0.5);
  assert.ok(Math.abs(expectedCalibrationError(table) - 0.4) < 1e-9);
});
