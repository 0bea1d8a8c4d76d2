import type { SoftmaxHead } from '../infer/head';
import { saveModelDir, type ModelMetadata } from '../infer/model-dir';
import { EdgePotholeError } from '../util/errors';
import { writeFileAtomic } from '../util/fs-atomic';

/** retrain.py's --final_tensor_name default, and the layer name saveModelDir writes. */
export const DEFAULT_FINAL_TENSOR_NAME = 'final_result';

/** What TensorFlow accepts as an op name; a layer name outside it breaks converters. */
const TENSOR_NAME = /^[A-Za-z0-9.][A-Za-z0-9_.\-/]*$/;

/** Throws EP_USAGE unless `name` can name the output layer. */
export function checkFinalTensorName(name: string): void {
  if (!TENSOR_NAME.test(name)) {
    throw new EdgePotholeError('EP_USAGE', `--final_tensor_name must be a TensorFlow op name ` +
      `(letters, digits, and . _ - / after the first), got ${JSON.stringify(name)}`);
  }
}

/**
 * Writes a model directory atomically, with the output layer (and its weights) named
 * `finalTensorName`, retrain.py's --final_tensor_name.
 */
export async function writeModelDir(
  dir: string,
  head: SoftmaxHead,
  metadata: ModelMetadata,
  extraFiles: Record<string, string | Uint8Array>,
  finalTensorName = DEFAULT_FINAL_TENSOR_NAME,
): Promise<void> {
  await saveModelDir(dir, head, metadata, extraFiles, finalTensorName);
}

/** retrain.py's --output_labels: a copy of labels.txt where the user asked for it. */
export async function writeLabelsFile(file: string, labels: string[]): Promise<void> {
  await writeFileAtomic(file, `${labels.join('\n')}\n`);
}
