import path from 'node:path';

import { defaultCacheDir } from '../infer/cache-dir';
import { createEngine } from '../infer/create-engine';
import type { EngineChoice } from '../infer/engine';
import { applyHead } from '../infer/head';
import { loadModelDir } from '../infer/model-dir';
import { BottleneckCache } from '../retrain/bottleneck-cache';
import { createBottlenecks } from '../retrain/bottlenecks';
import { scanDataset, type DatasetImage } from '../retrain/dataset';
import { buildReport, formatReport } from '../retrain/metrics';
import { EdgePotholeError } from '../util/errors';
import { configureLogger } from '../util/logger';
import { numberFlag, parseFlags, stringFlag, type FlagSpec } from './args';

const USAGE = `usage: edge-pothole evaluate --model DIR [options] IMAGE_DIR

Reports a model's accuracy on a labelled folder (one sub-folder per class, named like the
model's labels): accuracy, per-class precision and recall, the confusion matrix, accuracy per
source group (a sub-folder, or a file name prefix such as "rf-"), and the positive label's
precision and recall at several thresholds.

  --model DIR               model directory (required)
  --set NAME                all (default), or training, validation, testing: only the images
                            retrain would put in that set (same hash split as retrain)
  --testing_percentage P    split used with --set (default 10, as retrain)
  --validation_percentage P split used with --set (default 10, as retrain)
  --positive_label NAME     label of the threshold table (default pothole)
  --bottleneck_dir DIR      bottleneck cache shared with retrain (default <cache dir>/bottlenecks)
  --engine NAME             auto, onnxruntime or tfjs (default auto)
  --json                    print the report as one JSON object instead of text
`;

const FLAGS: Record<string, FlagSpec> = {
  model: { type: 'string' },
  set: { type: 'string' },
  testing_percentage: { type: 'string' },
  validation_percentage: { type: 'string' },
  positive_label: { type: 'string' },
  bottleneck_dir: { type: 'string' },
  engine: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const SETS = ['all', 'training', 'validation', 'testing'];

function usageError(message: string): EdgePotholeError {
  return new EdgePotholeError('EP_USAGE', `${message}\n\n${USAGE}`);
}

/** Folder labels must be model labels; the report uses the model's label order. */
function modelIndexOf(images: DatasetImage[], modelLabels: string[], imageDir: string): number[] {
  return images.map((image) => {
    const index = modelLabels.indexOf(image.label);
    if (index < 0) {
      throw new EdgePotholeError(
        'EP_DATASET_INVALID',
        `folder ${path.join(imageDir, image.label)} ` +
          `is not a label of the model (${modelLabels.join(', ')}); rename it or remove it`,
      );
    }

    return index;
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(USAGE);

    return 0;
  }
  configureLogger({ fd: 2, level: process.env.EDGE_POTHOLE_LOG_LEVEL ?? 'warn' });

  const modelDir = stringFlag(values, 'model');
  if (!modelDir) throw usageError('--model is required');
  if (positionals.length !== 1) throw usageError('give exactly one IMAGE_DIR');
  const set = stringFlag(values, 'set', 'all') as string;
  if (!SETS.includes(set))
    throw usageError(`--set must be one of ${SETS.join(', ')}, got "${set}"`);

  const imageDir = positionals[0];
  const dataset = await scanDataset(imageDir, {
    testingPercentage: numberFlag(values, 'testing_percentage', 10, { min: 0, max: 100 }),
    validationPercentage: numberFlag(values, 'validation_percentage', 10, { min: 0, max: 100 }),
    allowSmallClasses: true,
  });
  const images = dataset.images.filter((image) => set === 'all' || image.set === set);
  const model = await loadModelDir(modelDir);
  const trueIndex = modelIndexOf(images, model.labels, imageDir);
  const truth = new Map(images.map((image, i) => [image, trueIndex[i]]));

  const engine = await createEngine({
    engine: stringFlag(values, 'engine', 'auto') as EngineChoice,
    layer: model.metadata.backbone.layer,
  });
  const cache = BottleneckCache.forEngine(
    stringFlag(values, 'bottleneck_dir', path.join(defaultCacheDir(), 'bottlenecks')) as string,
    engine,
  );
  const created = await createBottlenecks(images, engine, cache);
  await engine.dispose();

  const report = buildReport(
    created.bottlenecks.map((b) => ({
      trueIndex: truth.get(b.image) as number,
      scores: applyHead(model.head, b.vector),
      group: b.image.group,
      file: b.image.file,
    })),
    model.labels,
    stringFlag(values, 'positive_label', 'pothole'),
  );
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ model: model.ref, set, skipped: created.skipped, report })}\n`,
    );
  } else {
    process.stdout.write(`${formatReport(report, model.labels, `${imageDir} (${set})`)}\n`);
    if (created.skipped.length > 0)
      process.stdout.write(`\n${created.skipped.length} unreadable images skipped\n`);
  }

  return 0;
}
