import type { SoftmaxHead } from '../infer/head';
import { tf } from '../infer/tf-backend';
import { SeededRandom } from '../util/random';

export interface TrainOptions {
  /** retrain.py --how_many_training_steps; default 4000. */
  steps: number;
  /** Gradient descent step size; default 0.01. */
  learningRate: number;
  /** Images per training step, drawn with replacement; default 100. */
  trainBatchSize: number;
  /** Images per validation check, -1 = the whole validation set; default 100. */
  validationBatchSize: number;
  /** Evaluate every this many steps (and on the last); default 10. */
  evalStepInterval: number;
  seed: number;
}

export interface LabelledVectors {
  vectors: Float32Array[];
  labels: number[];
}

/** One row of the training curve, logged and written to metrics.csv. */
export interface EvalRow {
  step: number;
  train_accuracy: number;
  cross_entropy: number;
  validation_accuracy: number;
  validation_cross_entropy: number;
}

function pickBatch(data: LabelledVectors, size: number, random: SeededRandom): number[] {
  const n = data.vectors.length;
  if (size < 0) return [...Array(n).keys()];

  return Array.from({ length: size }, () => random.int(n));
}

function toTensors(data: LabelledVectors, indices: number[], classes: number) {
  const featureLength = data.vectors[0].length;
  const x = new Float32Array(indices.length * featureLength);
  indices.forEach((index, row) => x.set(data.vectors[index], row * featureLength));

  return {
    x: tf.tensor2d(x, [indices.length, featureLength]),
    y: tf.oneHot(tf.tensor1d(indices.map((i) => data.labels[i]), 'int32'), classes),
  };
}

/**
 * Trains retrain.py's final layer: softmax(x W + b), weights drawn from N(0, 0.001) like its
 * truncated normal, plain gradient descent on the mean cross entropy of a random batch per
 * step. `onEval` sees the curve every `evalStepInterval` steps.
 */
export async function trainSoftmaxHead(
  train: LabelledVectors,
  validation: LabelledVectors,
  classes: number,
  options: TrainOptions,
  onEval: (row: EvalRow) => void,
): Promise<SoftmaxHead> {
  const random = new SeededRandom(options.seed);
  const featureLength = train.vectors[0].length;
  const initial = Float32Array.from({ length: featureLength * classes },
    () => Math.max(-0.002, Math.min(0.002, random.normal() * 0.001)));
  const kernel = tf.variable(tf.tensor2d(initial, [featureLength, classes]));
  const bias = tf.variable(tf.zeros([classes]));
  const optimizer = tf.train.sgd(options.learningRate);

  const logitsOf = (x: tf.Tensor2D) => tf.add(tf.matMul(x, kernel), bias) as tf.Tensor2D;
  const measure = (x: tf.Tensor2D, y: tf.Tensor) => tf.tidy(() => {
    const logits = logitsOf(x);
    const entropy = tf.losses.softmaxCrossEntropy(y, logits).dataSync()[0];
    const correct = tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1));

    return { accuracy: tf.mean(tf.cast(correct, 'float32')).dataSync()[0], entropy };
  });

  for (let step = 1; step <= options.steps; step++) {
    const batch = toTensors(train, pickBatch(train, options.trainBatchSize, random), classes);
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(batch.y, logitsOf(batch.x)) as tf.Scalar);

    if (step % options.evalStepInterval === 0 || step === options.steps) {
      const check = toTensors(validation, pickBatch(validation, options.validationBatchSize, random), classes);
      const trained = measure(batch.x, batch.y);
      const validated = measure(check.x, check.y);
      tf.dispose([check.x, check.y]);
      onEval({
        step,
        train_accuracy: trained.accuracy,
        cross_entropy: trained.entropy,
        validation_accuracy: validated.accuracy,
        validation_cross_entropy: validated.entropy,
      });
    }
    tf.dispose([batch.x, batch.y]);
  }

  const head: SoftmaxHead = {
    featureLength,
    classes,
    kernel: Float32Array.from(kernel.dataSync()),
    bias: Float32Array.from(bias.dataSync()),
  };
  tf.dispose([kernel, bias]);
  optimizer.dispose();

  return head;
}
