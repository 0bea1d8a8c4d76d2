import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyHead, type SoftmaxHead } from '../../src/infer/head';
import {
  cachedBatches,
  pickBatch,
  trainSoftmaxHead,
  type EvalRow,
  type LabelledVectors,
  type TrainingBatches,
  type TrainOptions,
} from '../../src/retrain/train';
import { SeededRandom } from '../../src/util/random';

const OPTIONS: TrainOptions = {
  steps: 60,
  learningRate: 0.5,
  trainBatchSize: 16,
  validationBatchSize: -1,
  evalStepInterval: 10,
  intermediateStoreFrequency: 0,
  seed: 1,
};

/** Two classes of 8-value vectors, told apart by the sign of the first value, plus noise. */
function twoClasses(count: number, seed: number): LabelledVectors {
  const random = new SeededRandom(seed);
  const labels = Array.from({ length: count }, (_, i) => i % 2);
  const vectors = labels.map((label) => Float32Array.from({ length: 8 },
    (_, d) => (d === 0 ? (label === 1 ? 1 : -1) : 0) + random.normal() * 0.3));

  return { vectors, labels };
}

const SHAPE = { featureLength: 8, classes: 2 };

async function train(options: Partial<TrainOptions> = {}, batches?: TrainingBatches) {
  const rows: EvalRow[] = [];
  const snapshots: Array<[number, SoftmaxHead]> = [];
  const head = await trainSoftmaxHead(batches ?? cachedBatches(twoClasses(200, 1)),
    twoClasses(40, 2), SHAPE, { ...OPTIONS, ...options }, {
      onEval: (row) => rows.push(row),
      onIntermediate: async (step, snapshot) => { snapshots.push([step, snapshot]); },
    });

  return { head, rows, snapshots };
}

test('learns two separable classes: validation accuracy 1 and falling cross entropy', async () => {
  const { head, rows } = await train();

  const last = rows[rows.length - 1];
  assert.equal(last.validation_accuracy, 1);
  assert.ok(last.cross_entropy < rows[0].cross_entropy / 2, JSON.stringify([rows[0], last]));
  const probe = applyHead(head, Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]));
  assert.ok(probe[1] > 0.9, `class 1 scored ${probe[1]}`);
});

test('repeats the same head with the same seed and another with another seed', async () => {
  const a = await train();
  const b = await train();
  const c = await train({ seed: 2 });

  assert.deepEqual([...a.head.kernel], [...b.head.kernel]);
  assert.deepEqual(a.rows, b.rows);
  assert.notDeepEqual([...a.head.kernel], [...c.head.kernel]);
});

test('reports the curve every eval_step_interval steps and at the last step', async () => {
  const { rows } = await train({ steps: 25, evalStepInterval: 10 });

  assert.deepEqual(rows.map((row) => row.step), [10, 20, 25]);
  for (const row of rows) {
    for (const value of Object.values(row)) assert.ok(Number.isFinite(value), JSON.stringify(row));
  }
});

test('hands a copy of the head to onIntermediate every N steps but not at the last', async () => {
  const { head, snapshots } = await train({ steps: 50, intermediateStoreFrequency: 20 });

  assert.deepEqual(snapshots.map(([step]) => step), [20, 40]);
  assert.notDeepEqual([...snapshots[0][1].kernel], [...snapshots[1][1].kernel]);
  assert.notDeepEqual([...snapshots[1][1].kernel], [...head.kernel]);
});

test('asks the batch source for train_batch_size examples at every step', async () => {
  const sizes: number[] = [];
  const data = twoClasses(50, 3);
  const source: TrainingBatches = {
    next: async (size, random) => {
      sizes.push(size);

      return cachedBatches(data).next(size, random);
    },
  };

  await train({ steps: 7, trainBatchSize: 5 }, source);

  assert.deepEqual(sizes, [5, 5, 5, 5, 5, 5, 5]);
});

test('picks a batch with replacement, or every index for -1', () => {
  const random = new SeededRandom(4);

  const picked = pickBatch(10, 1000, random);

  assert.equal(picked.length, 1000);
  assert.ok(picked.every((i) => Number.isInteger(i) && i >= 0 && i < 10));
  assert.equal(new Set(picked).size, 10);
  assert.deepEqual(pickBatch(4, -1, random), [0, 1, 2, 3]);
});
