import { softmax, type SoftmaxHead } from '../infer/head';
import { stageLogger } from '../util/logger';
import { argmax } from './metrics';

/**
 * Confidence calibration: does "0.8" mean right four times in five? Temperature scaling divides
 * the logits by one number T fitted on held-out data; it never changes which class wins, only
 * how sure the model says it is. Folding T into the head keeps every engine unchanged.
 */

export interface ReliabilityBin {
  /** Confidence range [from, to) of the winning class. */
  from: number;
  to: number;
  count: number;
  meanConfidence: number;
  accuracy: number;
}

/** Logits of one feature vector: features x kernel + bias. */
export function logitsOf(head: SoftmaxHead, features: Float32Array): Float32Array {
  const logits = Float32Array.from(head.bias);
  for (let f = 0; f < head.featureLength; f++) {
    const row = f * head.classes;
    for (let c = 0; c < head.classes; c++) logits[c] += features[f] * head.kernel[row + c];
  }

  return logits;
}

/** Reliability table over `bins` equal confidence ranges of the winning class. */
export function reliabilityTable(
  scores: ArrayLike<number>[],
  labels: number[],
  bins = 10,
): ReliabilityBin[] {
  const table = Array.from({ length: bins }, (_, i) => ({
    from: i / bins,
    to: (i + 1) / bins,
    count: 0,
    confidenceSum: 0,
    correct: 0,
  }));
  scores.forEach((score, i) => {
    const predicted = argmax(score);
    const bin = table[Math.min(bins - 1, Math.floor(score[predicted] * bins))];
    bin.count += 1;
    bin.confidenceSum += score[predicted];
    if (predicted === labels[i]) bin.correct += 1;
  });

  return table.map(({ from, to, count, confidenceSum, correct }) => ({
    from,
    to,
    count,
    meanConfidence: count ? confidenceSum / count : 0,
    accuracy: count ? correct / count : 0,
  }));
}

/** Expected calibration error: the count-weighted gap between confidence and accuracy. */
export function expectedCalibrationError(table: ReliabilityBin[]): number {
  const total = table.reduce((sum, bin) => sum + bin.count, 0);
  if (total === 0) return 0;

  return (
    table.reduce((sum, bin) => sum + bin.count * Math.abs(bin.meanConfidence - bin.accuracy), 0) /
    total
  );
}

function meanNegativeLogLikelihood(
  logits: Float32Array[],
  labels: number[],
  temperature: number,
): number {
  let sum = 0;
  logits.forEach((row, i) => {
    const probabilities = softmax(row.map((value) => value / temperature));
    sum -= Math.log(Math.max(probabilities[labels[i]], 1e-12));
  });

  return sum / logits.length;
}

/**
 * The temperature in [0.05, 20] that minimises the mean negative log-likelihood of `labels`,
 * by golden-section search on log T (the likelihood is unimodal in T for fixed logits).
 */
export function fitTemperature(logits: Float32Array[], labels: number[]): number {
  if (logits.length === 0) return 1;

  const ratio = (Math.sqrt(5) - 1) / 2;
  let low = Math.log(0.05);
  let high = Math.log(20);
  for (let i = 0; i < 60; i++) {
    const a = high - ratio * (high - low);
    const b = low + ratio * (high - low);
    if (
      meanNegativeLogLikelihood(logits, labels, Math.exp(a)) <=
      meanNegativeLogLikelihood(logits, labels, Math.exp(b))
    ) {
      high = b;
    } else {
      low = a;
    }
  }

  return Math.exp((low + high) / 2);
}

/** The same head with its logits divided by `temperature`: softmax(x W/T + b/T). */
export function scaleHead(head: SoftmaxHead, temperature: number): SoftmaxHead {
  return {
    ...head,
    kernel: head.kernel.map((value) => value / temperature),
    bias: head.bias.map((value) => value / temperature),
  };
}

export interface CalibrationRecord {
  method: 'temperature';
  /** Logits are divided by this; > 1 means the uncalibrated model was overconfident. */
  temperature: number;
  /** Fitted on this many validation photos. */
  fitted_on: number;
  /** Expected calibration error on the test set, before and after. */
  test_ece_before: number;
  test_ece_after: number;
  test_reliability_after: ReliabilityBin[];
}

interface Labelled {
  vectors: Float32Array[];
  labels: number[];
}

function testEce(head: SoftmaxHead, test: Labelled): { ece: number; table: ReliabilityBin[] } {
  const table = reliabilityTable(
    test.vectors.map((v) => softmax(logitsOf(head, v))),
    test.labels,
  );

  return { ece: expectedCalibrationError(table), table };
}

/**
 * Fits the temperature on the validation set (never on the test set, which only reports the
 * result) and returns the calibrated head with a record for metadata.json.
 */
export function calibrateHead(
  head: SoftmaxHead,
  validation: Labelled,
  test: Labelled,
): { head: SoftmaxHead; record: CalibrationRecord } {
  const temperature = fitTemperature(
    validation.vectors.map((v) => logitsOf(head, v)),
    validation.labels,
  );
  const calibrated = scaleHead(head, temperature);
  const before = testEce(head, test);
  const after = testEce(calibrated, test);
  stageLogger('retrain').info(
    {
      temperature: Number(temperature.toFixed(3)),
      testEceBefore: Number(before.ece.toFixed(4)),
      testEceAfter: Number(after.ece.toFixed(4)),
    },
    'confidence calibrated',
  );

  return {
    head: calibrated,
    record: {
      method: 'temperature',
      temperature,
      fitted_on: validation.vectors.length,
      test_ece_before: before.ece,
      test_ece_after: after.ece,
      test_reliability_after: after.table,
    },
  };
}
