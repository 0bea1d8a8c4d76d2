import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { EdgePotholeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import { temporarySibling } from '../util/fs-atomic';
import type { BackboneIdentity } from './backbone';
import type { SoftmaxHead } from './head';
import { tf } from './tf-backend';

/**
 * A model directory: the retrained final layer in TF.js layers format (model.json +
 * weights.bin), labels.txt (one label per line, in output order) and metadata.json.
 * The backbone is not copied: metadata names it and its fingerprint.
 */
export const MODEL_FILES = {
  topology: 'model.json',
  weights: 'weights.bin',
  labels: 'labels.txt',
  metadata: 'metadata.json',
} as const;

export interface ModelMetadata {
  format: 'edge-pothole-model/1';
  labels: string[];
  input: { size: number; normalization: '[-1,1]'; resize: 'fill' };
  backbone: BackboneIdentity;
  created_at: string;
  /** Training settings and results; free-form so retrain can grow it. */
  training?: Record<string, unknown>;
  test_accuracy?: number;
  [key: string]: unknown;
}

export interface LoadedModel {
  dir: string;
  head: SoftmaxHead;
  labels: string[];
  metadata: ModelMetadata;
  /** Name (directory) and sha256 of weights.bin, as published with each detection. */
  ref: { name: string; sha256: string };
}

function invalidModel(dir: string, problem: string, cause?: unknown): EdgePotholeError {
  return new EdgePotholeError(
    'EP_MODEL_INVALID',
    `model directory ${dir}: ${problem}; retrain it with "edge-pothole retrain"`,
    { cause },
  );
}

/** The head as a one-layer tfjs model, so the files are what tfjs users expect. */
async function headArtifacts(head: SoftmaxHead, layerName: string): Promise<tf.io.ModelArtifacts> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [head.featureLength],
        units: head.classes,
        activation: 'softmax',
        name: layerName,
      }),
    ],
  });
  model.layers[0].setWeights([
    tf.tensor2d(head.kernel, [head.featureLength, head.classes]),
    tf.tensor1d(head.bias),
  ]);

  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;

      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();

  return saved as tf.io.ModelArtifacts;
}

function weightBytes(artifacts: tf.io.ModelArtifacts): Buffer {
  const data = artifacts.weightData;
  const buffers = Array.isArray(data) ? data : [data as ArrayBuffer];

  return Buffer.concat(buffers.map((b) => Buffer.from(b)));
}

/**
 * Writes a complete model directory atomically: everything goes to a temporary sibling that is
 * renamed into place at the end, so an interrupted run never leaves a half-written model.
 * An existing directory at `dir` is replaced.
 */
export async function saveModelDir(
  dir: string,
  head: SoftmaxHead,
  metadata: ModelMetadata,
  extraFiles: Record<string, string | Uint8Array> = {},
  outputLayerName = 'final_result',
): Promise<void> {
  const artifacts = await headArtifacts(head, outputLayerName);
  const staging = temporarySibling(dir);
  await mkdir(staging, { recursive: true });

  try {
    const topology = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [MODEL_FILES.weights], weights: artifacts.weightSpecs }],
    };
    await writeFile(path.join(staging, MODEL_FILES.topology), JSON.stringify(topology));
    await writeFile(path.join(staging, MODEL_FILES.weights), weightBytes(artifacts));
    await writeFile(path.join(staging, MODEL_FILES.labels), `${metadata.labels.join('\n')}\n`);
    const metadataText = `${JSON.stringify(metadata, null, 2)}\n`;
    await writeFile(path.join(staging, MODEL_FILES.metadata), metadataText);
    for (const [name, content] of Object.entries(extraFiles)) {
      await writeFile(path.join(staging, name), content);
    }

    await replaceDirectory(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Moves a complete staging directory to `dir`, replacing what is there. For a moment `dir`
 * does not exist, but it is never half-written.
 */
export async function replaceDirectory(staging: string, dir: string): Promise<void> {
  if (!existsSync(dir)) {
    await mkdir(path.dirname(dir), { recursive: true });
    await rename(staging, dir);

    return;
  }

  // rename() cannot replace a non-empty directory: swap it aside, then remove the old one.
  const old = temporarySibling(dir);
  await rename(dir, old);
  await rename(staging, dir);
  await rm(old, { recursive: true, force: true });
}

async function readJson<T>(dir: string, file: string): Promise<T> {
  const full = path.join(dir, file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    throw invalidModel(dir, `${file} is missing`, err);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw invalidModel(dir, `${file} is not valid JSON (${(err as Error).message})`, err);
  }
}

function parseLabels(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
}

/** The parts of model.json that loading the head reads. */
interface LayersModelJson {
  modelTopology: unknown;
  weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
}

async function readHead(dir: string): Promise<{ head: SoftmaxHead; sha256: string }> {
  const topology = await readJson<LayersModelJson>(dir, MODEL_FILES.topology);
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(dir, MODEL_FILES.weights));
  } catch (err) {
    throw invalidModel(dir, `${MODEL_FILES.weights} is missing`, err);
  }

  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: topology.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: topology.weightsManifest?.[0]?.weights,
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    }));
  } catch (err) {
    throw invalidModel(dir, `cannot load the TF.js model (${(err as Error).message})`, err);
  }

  const dense = model.layers[model.layers.length - 1];
  const [kernel, bias] = dense.getWeights();
  if (!kernel || !bias || kernel.shape.length !== 2) {
    model.dispose();
    throw invalidModel(dir, 'the last layer is not a dense softmax layer');
  }
  const head: SoftmaxHead = {
    featureLength: kernel.shape[0],
    classes: kernel.shape[1],
    kernel: Float32Array.from(kernel.dataSync()),
    bias: Float32Array.from(bias.dataSync()),
  };
  model.dispose();
  // A corrupt weights.bin of the right size loads fine and then scores NaN on every frame:
  // a daemon that never reports a pothole, in silence. Refuse it here.
  if (![...head.kernel, ...head.bias].every(Number.isFinite)) {
    throw invalidModel(dir,
      `${MODEL_FILES.weights} contains NaN or infinite weights (corrupt file)`);
  }

  return { head, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Loads a model directory and checks it is whole: labels.txt must have one label per model
 * output (refused otherwise), and should agree with the labels stored in metadata (warned).
 */
export async function loadModelDir(dir: string): Promise<LoadedModel> {
  const resolved = path.resolve(dir);
  if (!existsSync(resolved)) throw invalidModel(resolved, 'does not exist');

  const metadata = await readJson<ModelMetadata>(resolved, MODEL_FILES.metadata);
  const { head, sha256 } = await readHead(resolved);

  let labels: string[];
  try {
    labels = parseLabels(await readFile(path.join(resolved, MODEL_FILES.labels), 'utf8'));
  } catch (err) {
    throw invalidModel(resolved, `${MODEL_FILES.labels} is missing`, err);
  }
  if (labels.length !== head.classes) {
    throw invalidModel(resolved, `${MODEL_FILES.labels} has ${labels.length} labels but the ` +
      `model has ${head.classes} outputs`);
  }
  if (JSON.stringify(labels) !== JSON.stringify(metadata.labels)) {
    stageLogger('infer').warn({ dir: resolved, labels, metadataLabels: metadata.labels },
      'labels.txt disagrees with metadata.json; using labels.txt');
  }
  if (metadata.backbone?.featureLength !== head.featureLength) {
    throw invalidModel(resolved, `the head takes ${head.featureLength} features but metadata ` +
      `names a backbone with ${metadata.backbone?.featureLength}`);
  }

  return { dir: resolved, head, labels, metadata, ref: { name: path.basename(resolved), sha256 } };
}
