import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { loadBackbone, type LoadedBackbone } from '../../../src/infer/backbone';
import { applyHead, type SoftmaxHead } from '../../../src/infer/head';
import { prepareGraph } from '../../../src/infer/onnx/graph-cache';
import { seededFrame } from '../../../src/infer/onnx/graph-check';
import { cpuSessionOptions, OnnxEngine } from '../../../src/infer/onnx/onnx-engine';
import { initTensorflow, tf } from '../../../src/infer/tf-backend';
import { normalizeBatch } from '../../../src/preprocess/normalize';
import { prepareImageFile } from '../../../src/preprocess/image';
import { SAMPLES_DIR } from '../../helpers/paths';
import { maxAbsDiff } from './tiny-backbone';

/** Float32 through 300 layers in two runtimes: rounding stays near 1e-6, bugs are near 0.1. */
const TOLERANCE = 1e-3;

/** Most tests check the export against tfjs, which only the float32 graph matches exactly. */
const FLOAT32 = { graphWeights: 'float32' as const };

let loaded: LoadedBackbone;
let photos: Uint8Array[];
let root: string;
let dirCount = 0;
/** For tests that are not about caching: the no-head graph is then built only once. */
let sharedDir: string;

function freshDir(): string {
  dirCount += 1;

  return path.join(root, `cache-${dirCount}`);
}

/** Two classes with logits of a few units, so the softmax is far from 0.5 / 0.5. */
function randomHead(seed: number): SoftmaxHead {
  const kernel = seededFrame(2048 * 2, seed).map((v) => v * 0.2);

  return { featureLength: 2048, classes: 2, kernel, bias: seededFrame(2, seed + 1) };
}

function cosine(a: Float32Array, b: Float32Array): number {
  const dot = (x: Float32Array, y: Float32Array) => x.reduce((sum, v, i) => sum + v * y[i], 0);

  return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
}

function split(flat: Float32Array, n: number): Float32Array[] {
  const length = flat.length / n;

  return Array.from({ length: n }, (_, i) => flat.slice(i * length, (i + 1) * length));
}

before(async () => {
  await initTensorflow();
  loaded = await loadBackbone('mixed9');
  root = await mkdtemp(path.join(os.tmpdir(), 'ep-onnx-engine-'));
  sharedDir = freshDir();

  // Two pothole and two normal road photos: real input, not just the check's noise.
  const files = ['pothole', 'normal'].flatMap((kind) => {
    const dir = path.join(SAMPLES_DIR, kind);

    return readdirSync(dir).sort().slice(0, 2).map((name) => path.join(dir, name));
  });
  photos = await Promise.all(files.map(async (file) => (await prepareImageFile(file)).pixels));
});

after(async () => {
  loaded.fullModel.dispose();
  await rm(root, { recursive: true, force: true });
});

test('computes the same features as TensorFlow.js on sample road photos', async () => {
  const engine = await OnnxEngine.fromBackbone(loaded, { ...FLOAT32, cacheDir: sharedDir });
  const onnxFeatures = await engine.features(photos);
  await engine.dispose();

  const expected = tf.tidy(() => {
    const input = tf.tensor4d(normalizeBatch(photos), [photos.length, 299, 299, 3]);

    return (loaded.featureModel.predict(input) as tf.Tensor).dataSync() as Float32Array;
  });
  split(expected, photos.length).forEach((reference, i) => {
    assert.equal(onnxFeatures[i].length, 2048);
    assert.ok(maxAbsDiff(onnxFeatures[i], reference) < TOLERANCE, `photo ${i}`);
  });
});

test('gives scores that equal applyHead of its features and sum to 1', async () => {
  const head = randomHead(11);
  const engine = await OnnxEngine.fromBackbone(loaded, { ...FLOAT32, cacheDir: freshDir(), head });

  const features = await engine.features(photos);
  const scores = await engine.scores(photos);
  await engine.dispose();

  scores.forEach((probabilities, i) => {
    assert.ok(maxAbsDiff(probabilities, applyHead(head, features[i])) < 1e-5, `photo ${i}`);
    assert.ok(Math.abs(probabilities[0] + probabilities[1] - 1) < 1e-5, `photo ${i}`);
  });
});

test('reuses the cached graph file when a second engine is created', async () => {
  const cacheDir = freshDir();
  const head = randomHead(21);
  const first = await OnnxEngine.fromBackbone(loaded, { ...FLOAT32, cacheDir, head });
  await first.dispose();
  const inode = (await stat(first.graph.file as string)).ino;

  const second = await OnnxEngine.fromBackbone(loaded, { ...FLOAT32, cacheDir, head });
  await second.dispose();

  assert.equal(first.graph.fromCache, false);
  assert.equal(second.graph.fromCache, true);
  assert.equal(second.graph.file, first.graph.file);
  assert.equal((await stat(second.graph.file as string)).ino, inode);
});

test('rebuilds the graph when the head changes and then scores with the new head', async () => {
  const cacheDir = freshDir();
  const options = { ...FLOAT32, cacheDir, head: randomHead(31) };
  const engine = await OnnxEngine.fromBackbone(loaded, options);
  const firstFile = engine.graph.file;
  const newHead = randomHead(41);

  await engine.setHead(newHead);
  const [features] = await engine.features(photos.slice(0, 1));
  const [scores] = await engine.scores(photos.slice(0, 1));
  await engine.dispose();

  assert.equal(engine.graph.fromCache, false);
  assert.notEqual(engine.graph.file, firstFile);
  assert.ok(maxAbsDiff(scores, applyHead(newHead, features)) < 1e-5);
});

test('reports onnxruntime on the cpu execution provider with the threads asked for', async () => {
  const options = { ...FLOAT32, cacheDir: sharedDir, threads: 1 };
  const engine = await OnnxEngine.fromBackbone(loaded, options);
  await engine.dispose();

  assert.deepEqual([engine.engine, engine.backend, engine.threads], ['onnxruntime', 'cpu', 1]);
  assert.equal(engine.backbone.layer, 'mixed9');
});

test('rejects a thread count that is not a positive integer, naming the value', async () => {
  const options = { ...FLOAT32, cacheDir: sharedDir, threads: 0 };
  await assert.rejects(OnnxEngine.fromBackbone(loaded, options), {
    code: 'EP_CONFIG_INVALID',
    message: 'threads must be a positive integer, received 0',
  });
});

test('rejects a frame of the wrong size, naming the frame and both sizes', async () => {
  const engine = await OnnxEngine.fromBackbone(loaded, { ...FLOAT32, cacheDir: sharedDir });

  await assert.rejects(engine.features([photos[0], new Uint8Array(10)]), {
    message: 'frame 1 has 10 bytes, expected 268203 (299x299 RGB); ' +
      'prepare frames with preprocess/image.ts at the backbone input size',
  });
  await assert.rejects(engine.scores(photos.slice(0, 1)), {
    message: 'no model head loaded: scores() needs a retrained model',
  });
  await engine.dispose();
  await assert.rejects(engine.features(photos.slice(0, 1)), {
    message: 'the ONNX engine was disposed; create a new engine',
  });
});

test('stores the backbone as uint8 in a quarter of the bytes, with the same features', async () => {
  const float32 = await OnnxEngine.fromBackbone(loaded, { ...FLOAT32, cacheDir: sharedDir });
  const uint8 = await OnnxEngine.fromBackbone(loaded, { ...FLOAT32,
    cacheDir: freshDir(),
    graphWeights: 'uint8',
  });
  const expected = await float32.features(photos);
  const actual = await uint8.features(photos);
  await float32.dispose();
  await uint8.dispose();

  const bytes = async (engine: OnnxEngine) => (await stat(engine.graph.file as string)).size;
  assert.ok((await bytes(uint8)) < (await bytes(float32)) / 3.5);
  actual.forEach((features, i) => {
    assert.ok(maxAbsDiff(features, expected[i]) < 1e-4, `photo ${i}`);
  });
});

test('runs int8 by default, its features pointing where the float ones do', async () => {
  const float32 = await OnnxEngine.fromBackbone(loaded, { ...FLOAT32, cacheDir: sharedDir });
  const int8 = await OnnxEngine.fromBackbone(loaded, { cacheDir: sharedDir });
  const expected = await float32.features(photos);
  const actual = await int8.features(photos);
  await float32.dispose();
  await int8.dispose();

  assert.equal(int8.graphWeights, 'int8');
  assert.notEqual(int8.backbone.fingerprint, float32.backbone.fingerprint, 'own fingerprint');
  assert.deepEqual({ ...int8.backbone, fingerprint: '', arithmetic: undefined },
    { ...float32.backbone, fingerprint: '', arithmetic: undefined });
  assert.match(path.basename(int8.graph.file as string), /i8\.onnx$/);
  assert.ok((int8.graph.quantisation?.minCosine ?? 0) >= 0.98);
  actual.forEach((features, i) => assert.ok(cosine(features, expected[i]) > 0.98, `photo ${i}`));
});

test('turns intra-op spinning off unless asked, through the session config entry', () => {
  const entry = (spinning: boolean) => cpuSessionOptions(2, spinning).extra;

  assert.deepEqual(entry(false), { session: { intra_op: { allow_spinning: '0' } } });
  assert.deepEqual(entry(true), { session: { intra_op: { allow_spinning: '1' } } });
});

test('exports mixed8, mixed10 and mixed8+mixed9 bottlenecks that match TensorFlow.js', async () => {
  const layers = [['mixed8', 1280], ['mixed10', 2048], ['mixed8+mixed9', 1280 + 2048]] as const;
  for (const [layer, featureLength] of layers) {
    const other = await loadBackbone(layer);
    try {
      const graph = await prepareGraph(other, undefined, { cacheDir: freshDir() });
      await graph.session.release();

      assert.equal(other.identity.featureLength, featureLength);
      assert.ok((graph.check?.maxAbsDiff ?? Infinity) < TOLERANCE, layer);
    } finally {
      other.fullModel.dispose();
    }
  }
});
