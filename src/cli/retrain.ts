import os from 'node:os';
import path from 'node:path';

import { DEFAULT_BOTTLENECK_LAYER } from '../infer/backbone';
import { defaultCacheDir } from '../infer/cache-dir';
import type { EngineChoice } from '../infer/engine';
import { retrain } from '../retrain/run-retrain';
import { EdgePotholeError } from '../util/errors';
import { configureLogger } from '../util/logger';
import { numberFlag, parseFlags, stringFlag, type FlagSpec } from './args';

const USAGE = `usage: edge-pothole retrain --image_dir DIR [--output_dir DIR] [options]

Trains a new final layer (softmax) on Inception v3 bottlenecks, like TensorFlow Hub's
retrain.py: one sub-folder of photos per class, label = folder name. Flags are retrain.py's,
in snake_case or kebab-case, with its defaults.

  --image_dir DIR                  folder with one sub-folder per class (required)
  --output_dir DIR                 model directory to write (default ./models/retrained);
                                   written atomically: a failed run leaves the old one intact
  --bottleneck_dir DIR             bottleneck cache (default <cache dir>/bottlenecks);
                                   keyed by image content + backbone, shared between runs
  --how_many_training_steps N      default 4000
  --learning_rate X                default 0.01
  --testing_percentage P           default 10
  --validation_percentage P        default 10
  --eval_step_interval N           default 10
  --train_batch_size N             default 100
  --validation_batch_size N        default 100 (-1 = the whole validation set)
  --test_batch_size N              default -1 (the whole test set)
  --print_misclassified_test_images
  --seed N                         makes the run repeatable (default 1)
  --allow_small_classes            train even with fewer than 20 images in a class
  --engine auto|onnxruntime|tfjs   what computes the bottlenecks (default auto)
  --threads N                      ONNX Runtime threads (default: the number of cores)
  --backbone_layer NAME            Inception v3 layer pooled into the bottleneck
                                   (default ${DEFAULT_BOTTLENECK_LAYER}; stands for --tfhub_module)
  --logging_verbosity LEVEL        debug, info, warn, error (default info)

Differences from retrain.py: there is no --tfhub_module (the backbone is the Inception v3
shipped in the npm package nsfwjs; pick its layer with --backbone_layer), and the output is a
model directory (TF.js model.json + weights.bin, labels.txt, metadata.json, metrics.csv).
`;

const FLAGS: Record<string, FlagSpec> = {
  image_dir: { type: 'string' },
  output_dir: { type: 'string' },
  bottleneck_dir: { type: 'string' },
  how_many_training_steps: { type: 'string' },
  learning_rate: { type: 'string' },
  testing_percentage: { type: 'string' },
  validation_percentage: { type: 'string' },
  eval_step_interval: { type: 'string' },
  train_batch_size: { type: 'string' },
  validation_batch_size: { type: 'string' },
  test_batch_size: { type: 'string' },
  print_misclassified_test_images: { type: 'boolean' },
  seed: { type: 'string' },
  allow_small_classes: { type: 'boolean' },
  engine: { type: 'string' },
  threads: { type: 'string' },
  backbone_layer: { type: 'string' },
  logging_verbosity: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const ENGINES: EngineChoice[] = ['auto', 'onnxruntime', 'tfjs'];

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(USAGE);

    return 0;
  }
  configureLogger({ fd: 2, level: stringFlag(values, 'logging_verbosity', 'info') });

  const imageDir = stringFlag(values, 'image_dir');
  if (!imageDir || positionals.length > 0) {
    throw new EdgePotholeError('EP_USAGE', `${imageDir ? `unexpected argument "${positionals[0]}"` :
      '--image_dir is required'}\n\n${USAGE}`);
  }
  const engine = stringFlag(values, 'engine', 'auto') as EngineChoice;
  if (!ENGINES.includes(engine)) {
    throw new EdgePotholeError('EP_USAGE', `--engine must be one of ${ENGINES.join(', ')}, got "${engine}"`);
  }
  const percentages = { min: 0, max: 100 };
  const testingPercentage = numberFlag(values, 'testing_percentage', 10, percentages);
  const validationPercentage = numberFlag(values, 'validation_percentage', 10, percentages);
  if (testingPercentage + validationPercentage >= 100) {
    throw new EdgePotholeError('EP_USAGE', `--testing_percentage + --validation_percentage must be < 100, ` +
      `got ${testingPercentage} + ${validationPercentage}`);
  }

  await retrain({
    imageDir,
    outputDir: path.resolve(stringFlag(values, 'output_dir', 'models/retrained') as string),
    bottleneckDir: path.resolve(stringFlag(values, 'bottleneck_dir', path.join(defaultCacheDir(), 'bottlenecks')) as string),
    steps: numberFlag(values, 'how_many_training_steps', 4000, { min: 1, integer: true }),
    learningRate: numberFlag(values, 'learning_rate', 0.01, { min: 0 }),
    testingPercentage,
    validationPercentage,
    evalStepInterval: numberFlag(values, 'eval_step_interval', 10, { min: 1, integer: true }),
    trainBatchSize: numberFlag(values, 'train_batch_size', 100, { min: 1, integer: true }),
    validationBatchSize: numberFlag(values, 'validation_batch_size', 100, { min: -1, integer: true }),
    testBatchSize: numberFlag(values, 'test_batch_size', -1, { min: -1, integer: true }),
    printMisclassified: Boolean(values.print_misclassified_test_images),
    seed: numberFlag(values, 'seed', 1, { integer: true }),
    allowSmallClasses: Boolean(values.allow_small_classes),
    engine,
    threads: values.threads === undefined ? undefined
      : numberFlag(values, 'threads', os.availableParallelism(), { min: 1, integer: true }),
    layer: stringFlag(values, 'backbone_layer', DEFAULT_BOTTLENECK_LAYER) as string,
  });

  return 0;
}
