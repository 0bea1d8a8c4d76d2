import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildReport, formatReport, type Prediction } from '../../src/retrain/metrics';

const LABELS = ['normal', 'pothole'];
const NORMAL = 0;
const POTHOLE = 1;

function p(file: string, trueIndex: number, pothole: number, group?: string): Prediction {
  return { file, trueIndex, scores: [1 - pothole, pothole], group };
}

// 4 normal and 5 pothole photos; n4, p4 and p5 are misclassified. Pothole scores are chosen
// so that every threshold below splits them differently.
const PREDICTIONS: Prediction[] = [
  p('n1', NORMAL, 0.1),
  p('n2', NORMAL, 0.3, 'rf-'),
  p('n3', NORMAL, 0.05, 'rf-'),
  p('n4', NORMAL, 0.55, 'rf-'),
  p('p1', POTHOLE, 0.9, 'rf-'),
  p('p2', POTHOLE, 0.6, 'rf-'),
  p('p3', POTHOLE, 0.8, 'img-'),
  p('p4', POTHOLE, 0.2, 'img-'),
  p('p5', POTHOLE, 0.35, 'rf-'),
];

test('counts the confusion matrix with rows as true and columns as predicted labels', () => {
  const report = buildReport(PREDICTIONS, LABELS);

  assert.deepEqual(report.confusion, [
    [3, 1],
    [2, 3],
  ]);
  assert.equal(report.count, 9);
  assert.equal(report.accuracy, 6 / 9);
});

test('computes precision from the columns and recall from the rows of each class', () => {
  const report = buildReport(PREDICTIONS, LABELS);

  assert.deepEqual(report.perClass, [
    { label: 'normal', precision: 3 / 5, recall: 3 / 4, support: 4 },
    { label: 'pothole', precision: 3 / 4, recall: 3 / 5, support: 5 },
  ]);
});

test('reports one row per true label and source group, sorted, with "other" for no group', () => {
  const report = buildReport(PREDICTIONS, LABELS);

  assert.deepEqual(report.perGroup, [
    { group: 'other', label: 'normal', count: 1, accuracy: 1 },
    { group: 'rf-', label: 'normal', count: 3, accuracy: 2 / 3 },
    { group: 'img-', label: 'pothole', count: 2, accuracy: 1 / 2 },
    { group: 'rf-', label: 'pothole', count: 3, accuracy: 2 / 3 },
  ]);
});

test('tabulates precision and recall of the positive label at each threshold, inclusive', () => {
  const report = buildReport(PREDICTIONS, LABELS, 'pothole', [0.3, 0.5, 0.9, 0.95]);

  assert.deepEqual(report.thresholds, {
    label: 'pothole',
    rows: [
      // 0.3 includes n2 (exactly 0.3): called n2, n4, p1, p2, p3, p5.
      { threshold: 0.3, precision: 4 / 6, recall: 4 / 5, predicted: 6 },
      { threshold: 0.5, precision: 3 / 4, recall: 3 / 5, predicted: 4 },
      { threshold: 0.9, precision: 1, recall: 1 / 5, predicted: 1 },
      // Nothing called: precision is reported as 0, not NaN.
      { threshold: 0.95, precision: 0, recall: 0, predicted: 0 },
    ],
  });
});

test('leaves out the threshold table when the positive label is not a class', () => {
  const report = buildReport(PREDICTIONS, LABELS, 'crack');

  assert.equal(report.thresholds, undefined);
});

test('lists the misclassified images with what they were taken for and how sure', () => {
  const report = buildReport(PREDICTIONS, LABELS);

  assert.deepEqual(report.misclassified, [
    { file: 'n4', label: 'normal', predicted: 'pothole', confidence: 0.55 },
    { file: 'p4', label: 'pothole', predicted: 'normal', confidence: 0.8 },
    { file: 'p5', label: 'pothole', predicted: 'normal', confidence: 0.65 },
  ]);
});

test('reports zeros rather than NaN for no predictions at all', () => {
  const report = buildReport([], LABELS);

  assert.equal(report.accuracy, 0);
  assert.deepEqual(report.confusion, [
    [0, 0],
    [0, 0],
  ]);
  assert.deepEqual(
    report.perClass.map((c) => [c.precision, c.recall, c.support]),
    [
      [0, 0, 0],
      [0, 0, 0],
    ],
  );
});

test('prints the accuracy line and the confusion matrix as text', () => {
  const text = formatReport(buildReport(PREDICTIONS, LABELS), LABELS, 'test set');
  const lines = text.split('\n');

  assert.equal(lines[0], 'test set: accuracy 66.7% (N=9)');
  assert.ok(lines.includes('  normal     precision  60.0%  recall  75.0%  N=4'), text);
  assert.ok(lines.includes('  normal             3         1'), text);
  assert.ok(lines.includes('  pothole            2         3'), text);
  assert.ok(lines.includes('  >= 0.50  precision  75.0%  recall  60.0%  called 4'), text);
});
