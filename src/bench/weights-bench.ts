import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import * as ort from 'onnxruntime-node';

import type { LoadedBackbone } from '../infer/backbone';
import type { LoadedModel } from '../infer/model-dir';
import { prepareGraph } from '../infer/onnx/graph-cache';
import { INPUT_NAME, SCORES_NAME } from '../infer/onnx/graph-export';
import { cpuSessionOptions } from '../infer/onnx/onnx-engine';
import { GRAPH_WEIGHTS, type GraphWeights } from '../infer/onnx/weight-storage';
import { normalizeBatch } from '../preprocess/normalize';
import { imagesIn, scanDataset } from '../retrain/dataset';
import { round } from './machine';
import { decodePhotos } from './photos';
import { summarise, type Timing } from './sample-stats';

/**
 * The accuracy cost of storing the graph's weights in fewer bits (and of int8 arithmetic,
 * which also quantises activations): each variant exported with
 * the shipped head, then the model's own test split classified with each, against the labels
 * and against float32. Graphs go to a temporary cache: a float16 graph passes only a looser
 * check than the engine's, and must not be found later by an engine that skips the check.
 */

export interface WeightsResult {
  weights: GraphWeights;
  fileMb: number;
  /** Opening the cached file: parsing plus folding the weights back into float32, ms. */
  openMs: number;
  /** Largest |ONNX - tfjs| feature difference on the export check frame. */
  checkMaxAbsDiff: number;
  msPerFrame: Timing;
  /** Correct top-1 labels on the test split. */
  accuracy: number;
  /** Largest |p - p(float32)| over every test image and class. */
  maxScoreDiff: number;
  /** Test images whose top-1 label differs from float32's. */
  flips: number;
  /** int8 only: lowest cosine similarity to float features on the calibration photos. */
  calibrationCosine?: number;
}

export interface WeightsReport {
  datasetDir: string;
  testImages: number;
  results: WeightsResult[];
}

/** The model's test split, as retrain drew it (same percentages, same hash of the path). */
async function testSplit(model: LoadedModel, datasetDir: string) {
  const training = (model.metadata.training ?? {}) as Record<string, unknown>;
  const dataset = await scanDataset(datasetDir, {
    validationPercentage: Number(training.validation_percentage ?? 10),
    testingPercentage: Number(training.testing_percentage ?? 10),
  });

  return imagesIn(dataset, 'testing');
}

async function classify(session: ort.InferenceSession, frames: Uint8Array[], size: number) {
  const scores: Float32Array[] = [];
  const times: number[] = [];
  for (const frame of frames) {
    const input = new ort.Tensor('float32', normalizeBatch([frame]), [1, size, size, 3]);
    const startedAt = performance.now();
    const result = await session.run({ [INPUT_NAME]: input }, [SCORES_NAME]);
    times.push(performance.now() - startedAt);
    scores.push(result[SCORES_NAME].data as Float32Array);
  }

  return { scores, msPerFrame: summarise(times) };
}

const argmax = (values: Float32Array) => values.indexOf(Math.max(...values));

/** Builds, reopens and runs one storage; `reference` is float32's scores once known. */
async function measureStorage(
  loaded: LoadedBackbone, model: LoadedModel, frames: Uint8Array[], expected: number[],
  weights: GraphWeights, cacheDir: string, reference?: Float32Array[],
) {
  const options = { cacheDir, weights, tolerance: 1, sessionOptions: cpuSessionOptions(2, false) };
  const built = await prepareGraph(loaded, model.head, options);
  await built.session.release();
  const openedAt = performance.now();
  const graph = await prepareGraph(loaded, model.head, options);
  const openMs = round(performance.now() - openedAt, 0);

  try {
    const { scores, msPerFrame } = await classify(graph.session, frames, loaded.identity.inputSize);
    const base = reference ?? scores;
    const diffs = scores.flatMap((s, i) => [...s].map((p, c) => Math.abs(p - base[i][c])));
    const result: WeightsResult = {
      weights, fileMb: round((await stat(built.file as string)).size / 2 ** 20, 1), openMs,
      checkMaxAbsDiff: built.check?.maxAbsDiff ?? NaN, msPerFrame,
      accuracy: round(scores.filter((s, i) => argmax(s) === expected[i]).length / scores.length, 4),
      maxScoreDiff: Math.max(0, ...diffs),
      flips: scores.filter((s, i) => argmax(s) !== argmax(base[i])).length,
      calibrationCosine: built.quantisation?.minCosine,
    };

    return { result, scores };
  } finally {
    await graph.session.release();
  }
}

/** Compares every storage in GRAPH_WEIGHTS on the model's test split of `datasetDir`. */
export async function benchWeights(
  loaded: LoadedBackbone,
  model: LoadedModel,
  datasetDir: string,
): Promise<WeightsReport> {
  const images = await testSplit(model, datasetDir);
  const frames = await decodePhotos(images.map((image) => image.file), loaded.identity.inputSize);
  const expected = images.map((image) => model.labels.indexOf(image.label));
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-bench-weights-'));

  try {
    const results: WeightsResult[] = [];
    let reference: Float32Array[] | undefined;
    for (const weights of GRAPH_WEIGHTS) {
      const measured = await measureStorage(loaded, model, frames, expected, weights, cacheDir,
        reference);
      reference ??= measured.scores;
      results.push(measured.result);
    }

    return { datasetDir, testImages: images.length, results };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}
