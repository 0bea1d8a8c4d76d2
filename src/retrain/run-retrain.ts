import os from 'node:os';

import { createEngine } from '../infer/create-engine';
import type { EngineChoice } from '../infer/engine';
import { applyHead } from '../infer/head';
import { saveModelDir, type ModelMetadata } from '../infer/model-dir';
import { EdgePotholeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import { BottleneckCache } from './bottleneck-cache';
import { createBottlenecks, type Bottleneck } from './bottlenecks';
import { scanDataset } from './dataset';
import { buildReport, formatReport, type Report } from './metrics';
import { trainSoftmaxHead, type EvalRow, type LabelledVectors, type TrainOptions } from './train';

export interface RetrainOptions extends TrainOptions {
  /** Test images to score, -1 = all; default -1. */
  testBatchSize: number;
  imageDir: string;
  outputDir: string;
  bottleneckDir: string;
  testingPercentage: number;
  validationPercentage: number;
  allowSmallClasses: boolean;
  printMisclassified: boolean;
  engine: EngineChoice;
  threads?: number;
  layer: string;
  /** Where human-readable results go (stdout by default). */
  out?: NodeJS.WritableStream;
}

export interface RetrainResult {
  report: Report;
  outputDir: string;
  skipped: number;
}

function vectorsOf(bottlenecks: Bottleneck[]): LabelledVectors {
  return {
    vectors: bottlenecks.map((b) => b.vector),
    labels: bottlenecks.map((b) => b.image.labelIndex),
  };
}

function curveCsv(rows: EvalRow[]): string {
  const header = 'step,train_accuracy,cross_entropy,validation_accuracy,validation_cross_entropy';
  const lines = rows.map((r) => [r.step, r.train_accuracy, r.cross_entropy, r.validation_accuracy,
    r.validation_cross_entropy].join(','));

  return `${[header, ...lines].join('\n')}\n`;
}

function requireEverySet(labels: string[], bottlenecks: Bottleneck[]): void {
  for (const set of ['training', 'validation', 'testing'] as const) {
    for (const [index, label] of labels.entries()) {
      if (!bottlenecks.some((b) => b.image.set === set && b.image.labelIndex === index)) {
        throw new EdgePotholeError('EP_DATASET_INVALID',
          `class "${label}" has no readable image in the ${set} set; add photos to that class`);
      }
    }
  }
}

/**
 * retrain.py's workflow: scan and split, cache bottlenecks, train the final layer, report on
 * the test set, write the model directory atomically. Writes nothing when the data set is bad.
 */
export async function retrain(options: RetrainOptions): Promise<RetrainResult> {
  const log = stageLogger('retrain');
  const out = options.out ?? process.stdout;

  const dataset = await scanDataset(options.imageDir, options);
  for (const file of dataset.notImages) log.warn({ file }, 'not an image file, skipped');
  log.info({ labels: dataset.labels, images: dataset.images.length }, 'data set scanned');

  const engine = await createEngine({ engine: options.engine, threads: options.threads, layer: options.layer });
  const cache = new BottleneckCache(options.bottleneckDir, engine.backbone.fingerprint,
    engine.backbone.featureLength);
  const created = await createBottlenecks(dataset.images, engine, cache);
  await engine.dispose();
  log.info({ fromCache: created.fromCache, computed: created.computed, skipped: created.skipped.length,
    seconds: Number(created.seconds.toFixed(1)),
    imagesPerSecond: Number((created.computed / Math.max(created.seconds, 1e-3)).toFixed(1)) },
  'bottlenecks ready');
  requireEverySet(dataset.labels, created.bottlenecks);

  const bySet = (set: string) => created.bottlenecks.filter((b) => b.image.set === set);
  const curve: EvalRow[] = [];
  const trainStartedAt = Date.now();
  const head = await trainSoftmaxHead(vectorsOf(bySet('training')), vectorsOf(bySet('validation')),
    dataset.labels.length, options, (row) => {
      curve.push(row);
      if (row.step % (options.evalStepInterval * 10) === 0 || row.step === options.steps) {
        log.info(row, 'training step');
      }
    });
  const trainSeconds = (Date.now() - trainStartedAt) / 1000;

  const testSet = bySet('testing');
  const sizedTest = options.testBatchSize < 0 ? testSet : testSet.slice(0, options.testBatchSize);
  const report = buildReport(sizedTest.map((b) => ({
    trueIndex: b.image.labelIndex, scores: applyHead(head, b.vector), group: b.image.group, file: b.image.file,
  })), dataset.labels);

  out.write(`${formatReport(report, dataset.labels, 'test set')}\n`);
  if (options.printMisclassified) {
    out.write('\nmisclassified test images:\n');
    for (const m of report.misclassified) out.write(`  ${m.file}  ${m.label} -> ${m.predicted}\n`);
  }
  out.write(`\nFinal test accuracy = ${(report.accuracy * 100).toFixed(1)}% (N=${report.count})\n`);

  const counts = Object.fromEntries(['training', 'validation', 'testing'].map((s) => [s, bySet(s).length]));
  const metadata: ModelMetadata = {
    format: 'edge-pothole-model/1',
    labels: dataset.labels,
    input: { size: engine.backbone.inputSize, normalization: '[-1,1]', resize: 'fill' },
    backbone: engine.backbone,
    created_at: new Date().toISOString(),
    test_accuracy: report.accuracy,
    training: {
      steps: options.steps, learning_rate: options.learningRate, train_batch_size: options.trainBatchSize,
      validation_batch_size: options.validationBatchSize, testing_percentage: options.testingPercentage,
      validation_percentage: options.validationPercentage, seed: options.seed, images: counts,
      skipped_images: created.skipped.length, not_images: dataset.notImages.length,
      engine: engine.engine, bottleneck_seconds: created.seconds, train_seconds: trainSeconds,
      host: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model },
    },
    test_report: report,
  };
  await saveModelDir(options.outputDir, head, metadata, { 'metrics.csv': curveCsv(curve) });
  log.info({ outputDir: options.outputDir, testAccuracy: report.accuracy }, 'model written');

  return { report, outputDir: options.outputDir, skipped: created.skipped.length };
}
