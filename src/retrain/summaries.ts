import path from 'node:path';

import { tf } from '../infer/tf-backend';
import { describeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import type { EvalRow } from './train';

/**
 * TensorBoard event files, as retrain.py writes to --summaries_dir (`train/` and
 * `validation/`). Only TensorFlow's native library can write them: with the optional
 * dependency @tensorflow/tfjs-node installed and active. Without it nothing is written and
 * the reason is logged; the same curves are always in metrics.csv, metrics.jsonl and the SVG
 * charts of the model directory.
 *
 * Unlike retrain.py, an existing summaries dir is not deleted first: it may hold other runs.
 * Known shortcoming: no machine used to develop this had tfjs-node (its install downloads
 * libtensorflow), so this writer has not run against it.
 */
export interface SummaryWriter {
  write(row: EvalRow): void;
  close(): void;
}

interface TfjsNodeSummaries {
  node: {
    summaryFileWriter(logdir: string): { scalar(name: string, value: number, step: number): void;
      flush(): void };
  };
}

/** Why event files cannot be written in this process, or undefined when they can. */
export function summariesUnavailable(): string | undefined {
  if (tf.getBackend() !== 'tensorflow') {
    return `TensorBoard event files need @tensorflow/tfjs-node, and the TensorFlow.js backend ` +
      `is ${tf.getBackend()}`;
  }
  try {
    require('@tensorflow/tfjs-node');

    return undefined;
  } catch (err) {
    return `@tensorflow/tfjs-node does not load: ${describeError(err)}`;
  }
}

/**
 * A writer for `dir`, or undefined (logged: warn when the user asked for `dir` explicitly,
 * info for retrain.py's default) when TensorBoard files cannot be written here.
 */
export function openSummaries(dir: string, explicit: boolean): SummaryWriter | undefined {
  const log = stageLogger('retrain');
  const reason = summariesUnavailable();
  if (reason) {
    const fields = { summariesDir: dir, reason, instead: 'metrics.csv, metrics.jsonl, *.svg' };
    if (explicit) log.warn(fields, 'tensorboard summaries not written');
    else log.info(fields, 'tensorboard summaries not written');

    return undefined;
  }

  const tfnode = require('@tensorflow/tfjs-node') as TfjsNodeSummaries;
  const train = tfnode.node.summaryFileWriter(path.join(dir, 'train'));
  const validation = tfnode.node.summaryFileWriter(path.join(dir, 'validation'));
  log.info({ summariesDir: dir }, 'tensorboard summaries enabled');

  return {
    write(row) {
      train.scalar('accuracy', row.train_accuracy, row.step);
      train.scalar('cross_entropy', row.cross_entropy, row.step);
      validation.scalar('accuracy', row.validation_accuracy, row.step);
      validation.scalar('cross_entropy', row.validation_cross_entropy, row.step);
    },
    close() {
      train.flush();
      validation.flush();
    },
  };
}
