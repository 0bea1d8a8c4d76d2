import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildReport } from '../../src/retrain/metrics';
import { curveCsv, curveJsonl, reportFiles } from '../../src/retrain/output-files';
import type { EvalRow } from '../../src/retrain/train';

const ROWS: EvalRow[] = [
  { step: 10, train_accuracy: 0.75, cross_entropy: 0.6, validation_accuracy: 0.7,
    validation_cross_entropy: 0.65 },
  { step: 20, train_accuracy: 0.875, cross_entropy: 0.4, validation_accuracy: 0.8,
    validation_cross_entropy: 0.45 },
];

test('writes the curve as CSV with a header and one line per evaluation', () => {
  assert.equal(curveCsv(ROWS), [
    'step,train_accuracy,cross_entropy,validation_accuracy,validation_cross_entropy',
    '10,0.75,0.6,0.7,0.65',
    '20,0.875,0.4,0.8,0.45',
    '',
  ].join('\n'));
});

test('writes the same rows as JSON lines', () => {
  const lines = curveJsonl(ROWS).trimEnd().split('\n').map((line) => JSON.parse(line));

  assert.deepEqual(lines, ROWS);
});

test('names the five files written next to the model', () => {
  const report = buildReport([{ trueIndex: 0, scores: [0.9, 0.1] },
    { trueIndex: 1, scores: [0.2, 0.8] }], ['normal', 'pothole']);

  const files = reportFiles(ROWS, report, ['normal', 'pothole']);

  assert.deepEqual(Object.keys(files).sort(), ['accuracy.svg', 'confusion_matrix.svg',
    'cross_entropy.svg', 'metrics.csv', 'metrics.jsonl']);
  assert.match(files['confusion_matrix.svg'], /N=2, accuracy 100\.0%/);
  assert.match(files['accuracy.svg'], /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
});
