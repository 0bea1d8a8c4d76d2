import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { SoftmaxHead } from '../infer/head';
import { MODEL_FILES, saveModelDir, type ModelMetadata } from '../infer/model-dir';
import { EdgePotholeError } from '../util/errors';
import { temporarySibling, writeFileAtomic } from '../util/fs-atomic';

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

interface LayersModelJson {
  modelTopology: { config: { layers: Array<{ config: { name: string } }> } };
  weightsManifest: Array<{ weights: Array<{ name: string }> }>;
}

/** Renames the dense layer in model.json, and its weights (`<layer>/kernel`, `<layer>/bias`). */
async function renameOutputLayer(dir: string, name: string): Promise<void> {
  const file = path.join(dir, MODEL_FILES.topology);
  const model = JSON.parse(await readFile(file, 'utf8')) as LayersModelJson;
  const layer = model.modelTopology.config.layers[model.modelTopology.config.layers.length - 1];
  const old = layer.config.name;

  layer.config.name = name;
  for (const weight of model.weightsManifest[0].weights) {
    if (weight.name.startsWith(`${old}/`)) weight.name = `${name}${weight.name.slice(old.length)}`;
  }
  await writeFile(file, JSON.stringify(model));
}

/**
 * Moves a complete staging directory to `dir`, replacing what is there. rename() cannot
 * replace a non-empty directory, so the old one is swapped aside first; in between, for a
 * moment, `dir` does not exist, but it is never half-written. (The same swap as
 * saveModelDir's, which is not exported.)
 */
export async function replaceDirectory(staging: string, dir: string): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  if (!existsSync(dir)) {
    await rename(staging, dir);

    return;
  }

  const old = temporarySibling(dir);
  await rename(dir, old);
  await rename(staging, dir);
  await rm(old, { recursive: true, force: true });
}

/**
 * Writes a model directory atomically (saveModelDir), with the output layer named
 * `finalTensorName` (retrain.py's --final_tensor_name). saveModelDir always names it
 * final_result, so another name is written to a staging directory, renamed there, then
 * moved into place: an interrupted run still leaves the old model or the new, never half.
 */
export async function writeModelDir(
  dir: string,
  head: SoftmaxHead,
  metadata: ModelMetadata,
  extraFiles: Record<string, string | Uint8Array>,
  finalTensorName = DEFAULT_FINAL_TENSOR_NAME,
): Promise<void> {
  if (finalTensorName === DEFAULT_FINAL_TENSOR_NAME) {
    await saveModelDir(dir, head, metadata, extraFiles);

    return;
  }

  const staging = temporarySibling(dir);
  try {
    await saveModelDir(staging, head, metadata, extraFiles);
    await renameOutputLayer(staging, finalTensorName);
    await replaceDirectory(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** retrain.py's --output_labels: a copy of labels.txt where the user asked for it. */
export async function writeLabelsFile(file: string, labels: string[]): Promise<void> {
  await writeFileAtomic(file, `${labels.join('\n')}\n`);
}
