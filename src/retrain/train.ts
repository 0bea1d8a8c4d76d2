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
  /** Hand a snapshot of the head to `onIntermediate` every this many steps; 0 = never (default). */
  intermediateStoreFrequency: number;
  seed: number;
}

/**
 * Where each step's training examples come from: cached bottlenecks (`cachedBatches`), or
 * bottlenecks of freshly distorted photos (distorted-batches.ts).
 */
export interface TrainingBatches {
  /** `size` examples (-1 = all) picked with `random`, the trainer's seeded generator. */
  next(size: number, random: SeededRandom): Promise<LabelledVectors>;
}

export interface TrainHooks {
  /** Sees the curve every `evalStepInterval` steps and on the last. */
  onEval(row: EvalRow): void;
  /** Sees the head every `intermediateStoreFrequency` steps (not on the last); awaited. */
  onIntermediate?(step: number, head: SoftmaxHead): Promise<void>;
  /** Called after every step (progress of slow, distorted training). */
  onStep?(step: number): void;
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

/** Indices of a batch drawn with replacement, as retrain.py does; all of them for size -1. */
export function pickBatch(count: number, size: number, random: SeededRandom): number[] {
  if (size < 0) return [...Array(count).keys()];

  return Array.from({ length: size }, () => random.int(count));
}

function subset(data: LabelledVectors, indices: number[]): LabelledVectors {
  return {
    vectors: indices.map((i) => data.vectors[i]),
    labels: indices.map((i) => data.labels[i]),
  };
}

/** Batches drawn from bottlenecks computed once (the usual, fast case). */
export function cachedBatches(data: LabelledVectors): TrainingBatches {
  return {
    next: async (size, random) => subset(data, pickBatch(data.vectors.length, size, random)),
  };
}

function toTensors(data: LabelledVectors, classes: number) {
  const featureLength = data.vectors[0].length;
  const x = new Float32Array(data.vectors.length * featureLength);
  data.vectors.forEach((vector, row) => x.set(vector, row * featureLength));

  return {
    x: tf.tensor2d(x, [data.vectors.length, featureLength]),
    y: tf.oneHot(tf.tensor1d(data.labels, 'int32'), classes),
  };
}

function snapshot(kernel: tf.Variable, bias: tf.Variable): SoftmaxHead {
  const [featureLength, classes] = kernel.shape;

  return {
    featureLength,
    classes,
    kernel: Float32Array.from(kernel.dataSync()),
    bias: Float32Array.from(bias.dataSync()),
  };
}

/** retrain.py stores every N steps but not at the last, which gets the final model anyway. */
function isIntermediateStep(step: number, options: TrainOptions): boolean {
  const frequency = options.intermediateStoreFrequency;

  return frequency > 0 && step % frequency === 0 && step < options.steps;
}

/** retrain.py's truncated_normal(stddev=0.001): N(0, 0.001) clipped at two deviations. */
function initialKernel(length: number, random: SeededRandom): Float32Array {
  return Float32Array.from({ length },
    () => Math.max(-0.002, Math.min(0.002, random.normal() * 0.001)));
}

/**
 * Trains retrain.py's final layer: softmax(x W + b), weights drawn from N(0, 0.001) like its
 * truncated normal, plain gradient descent on the mean cross entropy of a random batch per
 * step. The hooks see the curve and the intermediate heads.
 */
export async function trainSoftmaxHead(
  batches: TrainingBatches,
  validation: LabelledVectors,
  shape: { featureLength: number; classes: number },
  options: TrainOptions,
  hooks: TrainHooks,
): Promise<SoftmaxHead> {
  const { featureLength, classes } = shape;
  const random = new SeededRandom(options.seed);
  const kernel = tf.variable(tf.tensor2d(initialKernel(featureLength * classes, random),
    [featureLength, classes]));
  const bias = tf.variable(tf.zeros([classes]));
  const optimizer = tf.train.sgd(options.learningRate);
  const logitsOf = (x: tf.Tensor2D) => tf.add(tf.matMul(x, kernel), bias) as tf.Tensor2D;

  for (let step = 1; step <= options.steps; step++) {
    const batch = toTensors(await batches.next(options.trainBatchSize, random), classes);
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(batch.y, logitsOf(batch.x)) as
      tf.Scalar);

    if (step % options.evalStepInterval === 0 || step === options.steps) {
      const picked = pickBatch(validation.vectors.length, options.validationBatchSize, random);
      const check = toTensors(subset(validation, picked), classes);
      hooks.onEval(evalRow(step, logitsOf, batch, check));
      tf.dispose([check.x, check.y]);
    }
    tf.dispose([batch.x, batch.y]);

    if (hooks.onIntermediate && isIntermediateStep(step, options)) {
      await hooks.onIntermediate(step, snapshot(kernel, bias));
    }
    hooks.onStep?.(step);
  }

  const head = snapshot(kernel, bias);
  tf.dispose([kernel, bias]);
  optimizer.dispose();

  return head;
}

type Tensors = ReturnType<typeof toTensors>;

/** The curve at `step`: the head on this step's training batch and on a validation batch. */
function evalRow(step: number, logitsOf: (x: tf.Tensor2D) => tf.Tensor2D, batch: Tensors,
  check: Tensors): EvalRow {
  const trained = measure(logitsOf(batch.x), batch.y);
  const validated = measure(logitsOf(check.x), check.y);

  return {
    step,
    train_accuracy: trained.accuracy,
    cross_entropy: trained.entropy,
    validation_accuracy: validated.accuracy,
    validation_cross_entropy: validated.entropy,
  };
}

/** Accuracy and mean cross entropy of `logits` against one-hot `y`; disposes `logits`. */
function measure(logits: tf.Tensor2D, y: tf.Tensor): { accuracy: number; entropy: number } {
  const result = tf.tidy(() => {
    const entropy = tf.losses.softmaxCrossEntropy(y, logits).dataSync()[0];
    const correct = tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1));

    return { accuracy: tf.mean(tf.cast(correct, 'float32')).dataSync()[0], entropy };
  });
  logits.dispose();

  return result;
}
