import os from 'node:os';
import path from 'node:path';

import { DEFAULT_BOTTLENECK_LAYER } from '../infer/backbone';
import { defaultCacheDir } from '../infer/cache-dir';
import type { EngineChoice } from '../infer/engine';
import type { DistortionSettings } from '../preprocess/distort';
import { InterruptGuard } from '../retrain/interrupt-guard';
import { checkFinalTensorName, DEFAULT_FINAL_TENSOR_NAME } from '../retrain/model-output';
import { retrain, type RetrainOptions } from '../retrain/run-retrain';
import { EdgePotholeError } from '../util/errors';
import { configureLogger, stageLogger } from '../util/logger';
import { numberFlag, parseFlags, stringFlag, type FlagSpec, type ParsedFlags } from './args';

const USAGE = `usage: edge-pothole retrain --image_dir DIR [--output_dir DIR] [options]

Trains a new final layer (softmax) on Inception v3 bottlenecks, like TensorFlow Hub's
retrain.py: one sub-folder of photos per class, label = folder name. Every retrain.py flag is
accepted, in snake_case or kebab-case, with retrain.py's default unless said otherwise below.

Where things go
  --image_dir DIR                  folder with one sub-folder per class (required)
  --output_dir DIR                 the model directory (default ./models/retrained): model.json
                                   + weights.bin (TF.js), labels.txt, metadata.json (settings
                                   and test report), metrics.csv/.jsonl, accuracy.svg,
                                   cross_entropy.svg, confusion_matrix.svg; written atomically
  --output_graph PATH              retrain.py's name for it: the model directory is PATH,
                                   even if it ends in .pb (there is no frozen GraphDef here;
                                   "classify --graph PATH" reads it)
  --output_labels FILE             also write the labels here (always in <model dir>/labels.txt)
  --bottleneck_dir DIR             bottleneck cache (default <cache dir>/bottlenecks, not
                                   /tmp/bottleneck); keyed by image content + backbone
  --summaries_dir DIR              TensorBoard event files (default
                                   ${path.join(os.tmpdir(), 'retrain_logs')}): written only
                                   when @tensorflow/tfjs-node is installed and
                                   active; it is an optional dependency and usually absent, and
                                   then the curves are only in the model directory
  --intermediate_store_frequency N write a model every N steps (default 0 = never) ...
  --intermediate_output_graphs_dir DIR  ... to DIR/intermediate_<step>/ (default
                                   ${path.join(os.tmpdir(), 'intermediate_graph')})
  --saved_model_dir DIR            export the whole network (backbone + new layer) as
                                   DIR/model.onnx with labels.txt and signature.json, in place
                                   of retrain.py's TensorFlow SavedModel (needs the onnxruntime
                                   engine); default: no export
  --final_tensor_name NAME         name of the output layer in model.json (default final_result)

Training
  --how_many_training_steps N      default 4000
  --learning_rate X                default 0.01
  --testing_percentage P           default 10
  --validation_percentage P        default 10
  --eval_step_interval N           default 10
  --train_batch_size N             default 100
  --validation_batch_size N        default 100 (-1 = the whole validation set)
  --test_batch_size N              default -1 (the whole test set)
  --print_misclassified_test_images
  --flip_left_right                mirror half of the training images at random
  --random_crop P                  margin, in percent, around a random crop (default 0)
  --random_scale P                 random enlargement up to P percent (default 0)
  --random_brightness P            multiply pixels by 1 +/- up to P percent (default 0, <= 100)
                                   Any distortion makes every training step run train_batch_size
                                   photos through the backbone (no cache), as in retrain.py:
                                   hours for 4000 steps, see docs/retrain.md
  --seed N                         makes the run repeatable (default 1; not in retrain.py)
  --allow_small_classes            train even with fewer than 20 images in a class
  --skip_calibration               keep the raw confidences; by default a temperature fitted on
                                   the validation set makes them match observed accuracy
                                   (not in retrain.py; see docs/accuracy.md)

Backbone and engine
  --tfhub_module URL               accepted for compatibility only: the backbone is always the
                                   Inception v3 of the npm package nsfwjs (Keras weights, input
                                   [-1, 1]); an inception_v3 URL is accepted with a note, any
                                   other module is refused
  --backbone_layer NAME            layer(s) pooled into the bottleneck, e.g. mixed9 or
                                   mixed8+mixed9 (default ${DEFAULT_BOTTLENECK_LAYER})
  --engine auto|onnxruntime|tfjs   what computes the bottlenecks (default auto)
  --threads N                      ONNX Runtime threads (default: the number of cores)
  --logging_verbosity LEVEL        DEBUG, INFO, WARN, ERROR or FATAL, any case (default INFO);
                                   JSON log lines go to stderr, the report to stdout

Ctrl-C stops the run: no model is written, and the bottlenecks already computed stay cached.
`;

const FLAGS: Record<string, FlagSpec> = Object.fromEntries([
  ...['image_dir', 'output_dir', 'output_graph', 'output_labels', 'bottleneck_dir',
    'summaries_dir', 'intermediate_store_frequency', 'intermediate_output_graphs_dir',
    'saved_model_dir', 'final_tensor_name', 'how_many_training_steps', 'learning_rate',
    'testing_percentage', 'validation_percentage', 'eval_step_interval', 'train_batch_size',
    'validation_batch_size', 'test_batch_size', 'random_crop', 'random_scale',
    'random_brightness', 'seed', 'tfhub_module', 'backbone_layer', 'engine', 'threads',
    'logging_verbosity'].map((name) => [name, { type: 'string' } as FlagSpec]),
  ...['print_misclassified_test_images', 'flip_left_right', 'allow_small_classes',
    'skip_calibration']
    .map((name) => [name, { type: 'boolean' } as FlagSpec]),
  ['help', { type: 'boolean', short: 'h' } as FlagSpec],
]);

const ENGINES: EngineChoice[] = ['auto', 'onnxruntime', 'tfjs'];

/** retrain.py's --logging_verbosity choices (Python logging names) -> pino levels. */
const VERBOSITY: Record<string, string> = {
  DEBUG: 'debug', INFO: 'info', WARN: 'warn', WARNING: 'warn', ERROR: 'error', FATAL: 'fatal',
};

function usageError(message: string): EdgePotholeError {
  return new EdgePotholeError('EP_USAGE', message);
}

export function logLevelOf(verbosity: string): string {
  const level = VERBOSITY[verbosity.toUpperCase()];
  if (!level) {
    throw usageError(`--logging_verbosity must be one of DEBUG, INFO, WARN, ERROR, FATAL ` +
      `(any case), got "${verbosity}"`);
  }

  return level;
}

/** --output_dir, or retrain.py's --output_graph; both naming different places is an error. */
function outputDirOf(values: ParsedFlags['values']): string {
  const outputDir = stringFlag(values, 'output_dir');
  const outputGraph = stringFlag(values, 'output_graph');
  if (outputDir && outputGraph && path.resolve(outputDir) !== path.resolve(outputGraph)) {
    throw usageError(`--output_dir "${outputDir}" and --output_graph "${outputGraph}" name two ` +
      'model directories; pass one of them');
  }

  return path.resolve(outputDir ?? outputGraph ?? 'models/retrained');
}

/**
 * --tfhub_module cannot change the backbone. An Inception v3 module is what the user meant
 * anyway (the closest we have); anything else would silently train on other features.
 */
function checkTfhubModule(values: ParsedFlags['values']): void {
  const module = stringFlag(values, 'tfhub_module');
  if (module === undefined) return;

  if (!/inception_v3/i.test(module)) {
    throw usageError(`--tfhub_module "${module}" cannot be used: edge-pothole has one backbone, ` +
      'the Inception v3 of the npm package nsfwjs; drop --tfhub_module (pick the layer with ' +
      '--backbone_layer)');
  }
  stageLogger('retrain').info({ tfhubModule: module, usedInstead: 'nsfwjs Inception v3' },
    'tfhub_module mapped to the built-in backbone; its bottlenecks differ from the TF Hub module');
}

function distortionsOf(values: ParsedFlags['values']): DistortionSettings {
  return {
    flipLeftRight: Boolean(values.flip_left_right),
    randomCrop: numberFlag(values, 'random_crop', 0, { min: 0 }),
    randomScale: numberFlag(values, 'random_scale', 0, { min: 0 }),
    randomBrightness: numberFlag(values, 'random_brightness', 0, { min: 0, max: 100 }),
  };
}

function splitOf(values: ParsedFlags['values']) {
  const percentages = { min: 0, max: 100 };
  const testingPercentage = numberFlag(values, 'testing_percentage', 10, percentages);
  const validationPercentage = numberFlag(values, 'validation_percentage', 10, percentages);
  if (testingPercentage + validationPercentage >= 100) {
    throw usageError(`--testing_percentage + --validation_percentage must be < 100, ` +
      `got ${testingPercentage} + ${validationPercentage}`);
  }

  return { testingPercentage, validationPercentage };
}

function outputsOf(values: ParsedFlags['values']) {
  const finalTensorName = stringFlag(values, 'final_tensor_name') ?? DEFAULT_FINAL_TENSOR_NAME;
  checkFinalTensorName(finalTensorName);
  const resolved = (name: string, fallback?: string) => {
    const value = stringFlag(values, name, fallback);

    return value === undefined || value === '' ? undefined : path.resolve(value);
  };

  return {
    outputDir: outputDirOf(values),
    outputLabels: resolved('output_labels'),
    summariesDir: resolved('summaries_dir', path.join(os.tmpdir(), 'retrain_logs')),
    summariesExplicit: values.summaries_dir !== undefined,
    intermediateOutputGraphsDir: resolved('intermediate_output_graphs_dir',
      path.join(os.tmpdir(), 'intermediate_graph')),
    savedModelDir: resolved('saved_model_dir'),
    finalTensorName,
  };
}

function engineOf(values: ParsedFlags['values']) {
  const engine = stringFlag(values, 'engine', 'auto') as EngineChoice;
  if (!ENGINES.includes(engine)) {
    throw usageError(`--engine must be one of ${ENGINES.join(', ')}, got "${engine}"`);
  }

  return {
    engine,
    threads: values.threads === undefined ? undefined
      : numberFlag(values, 'threads', os.availableParallelism(), { min: 1, integer: true }),
    layer: stringFlag(values, 'backbone_layer', DEFAULT_BOTTLENECK_LAYER) as string,
  };
}

/** Every flag checked before any work starts; the options retrain() takes. */
export function optionsFromFlags(values: ParsedFlags['values']): RetrainOptions {
  const imageDir = stringFlag(values, 'image_dir');
  if (!imageDir) throw usageError(`--image_dir is required\n\n${USAGE}`);

  return {
    imageDir,
    ...outputsOf(values),
    bottleneckDir: path.resolve(stringFlag(values, 'bottleneck_dir',
      path.join(defaultCacheDir(), 'bottlenecks')) as string),
    steps: numberFlag(values, 'how_many_training_steps', 4000, { min: 1, integer: true }),
    learningRate: numberFlag(values, 'learning_rate', 0.01, { min: 0 }),
    ...splitOf(values),
    evalStepInterval: numberFlag(values, 'eval_step_interval', 10, { min: 1, integer: true }),
    intermediateStoreFrequency: numberFlag(values, 'intermediate_store_frequency', 0,
      { min: 0, integer: true }),
    trainBatchSize: numberFlag(values, 'train_batch_size', 100, { min: 1, integer: true }),
    validationBatchSize: numberFlag(values, 'validation_batch_size', 100,
      { min: -1, integer: true }),
    testBatchSize: numberFlag(values, 'test_batch_size', -1, { min: -1, integer: true }),
    printMisclassified: Boolean(values.print_misclassified_test_images),
    seed: numberFlag(values, 'seed', 1, { integer: true }),
    allowSmallClasses: Boolean(values.allow_small_classes),
    calibrate: !values.skip_calibration,
    distortions: distortionsOf(values),
    ...engineOf(values),
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(USAGE);

    return 0;
  }
  const verbosity = stringFlag(values, 'logging_verbosity') ?? 'INFO';
  configureLogger({ fd: 2, level: logLevelOf(verbosity) });
  if (positionals.length > 0) {
    throw usageError(`unexpected argument "${positionals[0]}"\n\n${USAGE}`);
  }

  const options = optionsFromFlags(values);
  checkTfhubModule(values);

  // Once: a second Ctrl-C gets Node's default, an immediate stop, as users expect.
  const guard = new InterruptGuard((wroteModel) => {
    const { outputDir, bottleneckDir } = options;
    stageLogger('retrain').warn({ outputDir, bottleneckDir, wroteModel }, wroteModel
      ? 'interrupted: the model being written was finished first'
      : 'interrupted: no model written, finished bottlenecks stay cached');
    process.exit(130);
  });
  const onInterrupt = () => guard.interrupt();
  process.once('SIGINT', onInterrupt);
  try {
    await retrain({ ...options, guard });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }

  return 0;
}
