import os from 'node:os';
import path from 'node:path';

import { createEngine } from '../infer/create-engine';
import type { InferenceEngine } from '../infer/engine';
import { applyHead, type SoftmaxHead } from '../infer/head';
import type { ModelMetadata } from '../infer/model-dir';
import { hasDistortions } from '../preprocess/distort';
import { EdgePotholeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import { Progress } from '../util/progress';
import { BottleneckCache } from './bottleneck-cache';
import { createBottlenecks, type Bottleneck } from './bottlenecks';
import { ensureEverySetHasOne, scanDataset, type Dataset, type DatasetImage } from './dataset';
import { DistortedBatches, type DistortionStats } from './distorted-batches';
import { calibrateHead, type CalibrationRecord } from './calibration';
import { buildReport, type Report } from './metrics';
import { printReport } from './print-report';
import { writeLabelsFile, writeModelDir } from './model-output';
import { checkCanExport, exportOnnxModel } from './onnx-export';
import { reportFiles } from './output-files';
import type { RetrainOptions } from './retrain-options';
import { openSummaries, type SummaryWriter } from './summaries';
import { cachedBatches, trainSoftmaxHead, type EvalRow, type LabelledVectors,
  type TrainHooks, type TrainingBatches } from './train';

export type { RetrainOptions } from './retrain-options';

export interface RetrainResult {
  report: Report;
  outputDir: string;
  /** Files skipped: unreadable or undecodable images, plus files that are not images. */
  skipped: number;
}

/** The training inputs, however they are made. */
interface Prepared {
  batches: TrainingBatches;
  validation: LabelledVectors;
  test: Bottleneck[];
  skipped: Array<{ file: string; reason: string }>;
  counts: Record<string, number>;
  bottleneckSeconds: number;
  distortion?: DistortionStats;
}

function vectorsOf(bottlenecks: Bottleneck[]): LabelledVectors {
  return {
    vectors: bottlenecks.map((b) => b.vector),
    labels: bottlenecks.map((b) => b.image.labelIndex),
  };
}

/** Every class needs a readable image in every set, or training and the report mean nothing. */
function requireEverySet(labels: string[], images: Array<Pick<DatasetImage, 'set' | 'labelIndex'>>):
  void {
  for (const set of ['training', 'validation', 'testing'] as const) {
    for (const [index, label] of labels.entries()) {
      if (!images.some((image) => image.set === set && image.labelIndex === index)) {
        throw new EdgePotholeError('EP_DATASET_INVALID',
          `class "${label}" has no readable image in the ${set} set; add photos to that class`);
      }
    }
  }
}

async function scan(options: RetrainOptions): Promise<Dataset> {
  const log = stageLogger('retrain');
  const dataset = await scanDataset(options.imageDir, options);
  for (const file of dataset.notImages) log.warn({ file }, 'not an image file, skipped');
  for (const dir of dataset.repeatedDirs) log.warn({ dir }, 'folder already read, skipped');
  log.info({ labels: dataset.labels, images: dataset.images.length }, 'data set scanned');

  return dataset;
}

/** Bottlenecks from the cache, computed and cached when missing. */
async function cachedBottlenecks(images: DatasetImage[], engine: InferenceEngine,
  options: RetrainOptions) {
  const cache = BottleneckCache.forEngine(options.bottleneckDir, engine);
  const created = await createBottlenecks(images, engine, cache);
  stageLogger('retrain').info({ fromCache: created.fromCache, computed: created.computed,
    skipped: created.skipped.length, seconds: Number(created.seconds.toFixed(1)),
    cpuSeconds: Number(created.cpuSeconds.toFixed(1)),
    imagesPerSecond: Number((created.computed / Math.max(created.seconds, 1e-3)).toFixed(1)) },
  'bottlenecks ready');

  return created;
}

interface TrainingInput {
  batches: TrainingBatches;
  /** The training images that can be read. */
  images: DatasetImage[];
  skipped: Array<{ file: string; reason: string }>;
  distortion?: DistortionStats;
}

async function distortedTraining(images: DatasetImage[], engine: InferenceEngine,
  options: RetrainOptions): Promise<TrainingInput> {
  const settings = options.distortions as NonNullable<RetrainOptions['distortions']>;
  // A seed of its own, so the batch picks are the same with and without distortions.
  const { batches, skipped } = await DistortedBatches.create(images, engine,
    { settings, seed: options.seed + 1 });
  const unreadable = new Set(skipped.map((s) => s.file));

  return { batches, images: images.filter((i) => !unreadable.has(i.file)), skipped,
    distortion: batches.stats };
}

/** A photo that turned out unreadable may have been a small class's only one in a set. */
function rebalance(readable: Bottleneck[], labels: string[]): void {
  for (const index of labels.keys()) {
    ensureEverySetHasOne(readable.map((b) => b.image).filter((i) => i.labelIndex === index));
  }
}

/**
 * Bottlenecks of every image from the cache (computed when missing); with distortions,
 * only validation and test images are cached, and training batches are made fresh per step.
 */
async function prepare(dataset: Dataset, engine: InferenceEngine, options: RetrainOptions):
  Promise<Prepared> {
  const distort = options.distortions !== undefined && hasDistortions(options.distortions);
  const inTraining = (image: DatasetImage) => image.set === 'training';
  const created = await cachedBottlenecks(
    distort ? dataset.images.filter((i) => !inTraining(i)) : dataset.images, engine, options);
  if (!distort && options.allowSmallClasses) rebalance(created.bottlenecks, dataset.labels);
  const bySet = (set: string) => created.bottlenecks.filter((b) => b.image.set === set);

  const training: TrainingInput = distort
    ? await distortedTraining(dataset.images.filter(inTraining), engine, options)
    : { batches: cachedBatches(vectorsOf(bySet('training'))),
      images: bySet('training').map((b) => b.image), skipped: [] };
  requireEverySet(dataset.labels, [...training.images, ...created.bottlenecks.map((b) => b.image)]);

  return {
    batches: training.batches,
    validation: vectorsOf(bySet('validation')),
    test: bySet('testing'),
    skipped: [...created.skipped, ...training.skipped],
    counts: { training: training.images.length, validation: bySet('validation').length,
      testing: bySet('testing').length },
    bottleneckSeconds: created.seconds,
    distortion: training.distortion,
  };
}

/**
 * What training reports as it goes: the curve (kept, logged, sent to TensorBoard),
 * intermediate models, and with distortions a progress bar, since each step then takes
 * seconds instead of milliseconds.
 */
function trainingHooks(curve: EvalRow[], summaries: SummaryWriter | undefined,
  progress: Progress | undefined, context: { dataset: Dataset; engine: InferenceEngine;
    options: RetrainOptions }): TrainHooks {
  const { dataset, engine, options } = context;
  const log = stageLogger('retrain');

  return {
    onEval: (row) => {
      curve.push(row);
      summaries?.write(row);
      if (row.step % (options.evalStepInterval * 10) === 0 || row.step === options.steps) {
        log.info(row, 'training step');
      }
    },
    onIntermediate: async (step, snapshot) => {
      const root = options.intermediateOutputGraphsDir ?? os.tmpdir();
      const dir = path.join(root, `intermediate_${step}`);
      await guarded(options, () => writeModelDir(dir, snapshot,
        metadataOf(dataset, engine, options, { step }), {}, options.finalTensorName));
      log.info({ step, dir }, 'intermediate model written');
    },
    onStep: () => progress?.tick(),
  };
}

/** Trains the head, logging the curve, feeding TensorBoard and storing intermediate models. */
async function train(prepared: Prepared, dataset: Dataset, engine: InferenceEngine,
  options: RetrainOptions): Promise<{ head: SoftmaxHead; curve: EvalRow[]; seconds: number }> {
  const curve: EvalRow[] = [];
  const summaries = options.summariesDir
    ? openSummaries(options.summariesDir, options.summariesExplicit ?? false) : undefined;
  const progress = prepared.distortion ? new Progress('distorted training steps', options.steps)
    : undefined;
  const startedAt = Date.now();

  const head = await trainSoftmaxHead(prepared.batches, prepared.validation,
    { featureLength: engine.backbone.featureLength, classes: dataset.labels.length }, options,
    trainingHooks(curve, summaries, progress, { dataset, engine, options }));
  summaries?.close();
  progress?.finish();

  return { head, curve, seconds: (Date.now() - startedAt) / 1000 };
}

function metadataOf(dataset: Dataset, engine: InferenceEngine, options: RetrainOptions,
  training: Record<string, unknown>): ModelMetadata {
  return {
    format: 'edge-pothole-model/1',
    labels: dataset.labels,
    input: { size: engine.backbone.inputSize, normalization: '[-1,1]', resize: 'fill' },
    backbone: engine.backbone,
    created_at: new Date().toISOString(),
    training: {
      steps: options.steps, learning_rate: options.learningRate,
      train_batch_size: options.trainBatchSize, validation_batch_size: options.validationBatchSize,
      testing_percentage: options.testingPercentage,
      validation_percentage: options.validationPercentage, seed: options.seed,
      final_tensor_name: options.finalTensorName, distortions: options.distortions,
      engine: engine.engine, host: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model },
      ...training,
    },
  };
}


/**
 * retrain.py's workflow: scan and split, cache bottlenecks, train the final layer, report on
 * the test set, write the model directory atomically. Writes nothing when the data set is bad.
 */
export async function retrain(options: RetrainOptions): Promise<RetrainResult> {
  const dataset = await scan(options);
  const engine = await (options.engineFactory ?? createEngine)({ engine: options.engine,
    threads: options.threads, layer: options.layer });
  try {
    if (options.savedModelDir) checkCanExport(engine);
    const prepared = await prepare(dataset, engine, options);
    const trained = await calibrated(await train(prepared, dataset, engine, options), prepared,
      options);

    const sizedTest = options.testBatchSize < 0 ? prepared.test
      : prepared.test.slice(0, options.testBatchSize);
    const report = buildReport(sizedTest.map((b) => ({ trueIndex: b.image.labelIndex,
      scores: applyHead(trained.head, b.vector), group: b.image.group, file: b.image.file })),
    dataset.labels);
    printReport(report, dataset, prepared.skipped.length, options);

    await guarded(options, () => writeOutputs(dataset, engine, options,
      { prepared, trained, report }));

    return { report, outputDir: options.outputDir,
      skipped: prepared.skipped.length + dataset.notImages.length };
  } finally {
    await engine.dispose();
  }
}

interface Trained {
  head: SoftmaxHead;
  curve: EvalRow[];
  seconds: number;
  calibration?: CalibrationRecord;
}

/** Temperature scaling on the validation set (see calibration.ts), unless switched off. */
function calibrated(trained: Trained, prepared: Prepared, options: RetrainOptions): Trained {
  if (options.calibrate === false) return trained;

  const test = vectorsOf(prepared.test);
  const { head, record } = calibrateHead(trained.head, prepared.validation, test);

  return { ...trained, head, calibration: record };
}

function guarded<T>(options: RetrainOptions, write: () => Promise<T>): Promise<T> {
  return options.guard ? options.guard.whileWriting(write) : write();
}

async function writeOutputs(dataset: Dataset, engine: InferenceEngine, options: RetrainOptions,
  results: { prepared: Prepared; trained: Trained; report: Report }): Promise<void> {
  const { prepared, trained, report } = results;
  const metadata = metadataOf(dataset, engine, options, {
    images: prepared.counts, skipped_images: prepared.skipped.length,
    not_images: dataset.notImages.length, bottleneck_seconds: prepared.bottleneckSeconds,
    train_seconds: trained.seconds, distorted_frames: prepared.distortion?.frames,
    distortion_seconds: prepared.distortion?.seconds, calibration: trained.calibration,
  });
  metadata.test_accuracy = report.accuracy;
  metadata.test_report = report;

  const log = stageLogger('retrain');
  await writeModelDir(options.outputDir, trained.head, metadata,
    reportFiles(trained.curve, report, dataset.labels), options.finalTensorName);
  log.info({ outputDir: options.outputDir, testAccuracy: report.accuracy }, 'model written');
  if (options.outputLabels) {
    await writeLabelsFile(options.outputLabels, dataset.labels);
    log.info({ outputLabels: options.outputLabels }, 'labels written');
  }
  if (options.savedModelDir) {
    await exportOnnxModel(engine, trained.head, dataset.labels, options.savedModelDir);
    log.info({ savedModelDir: options.savedModelDir }, 'onnx model exported');
  }
}
