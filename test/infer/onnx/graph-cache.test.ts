import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import type { SoftmaxHead } from '../../../src/infer/head';
import { graphFileName, prepareGraph } from '../../../src/infer/onnx/graph-cache';
import { seededFrame } from '../../../src/infer/onnx/graph-check';
import { initTensorflow } from '../../../src/infer/tf-backend';
import { maxAbsDiff, tfjsFeatures, TINY_SIZE, tinyBackbone } from './tiny-backbone';

let root: string;
let dirCount = 0;

function freshDir(): string {
  dirCount += 1;

  return path.join(root, `cache-${dirCount}`);
}

function head(seed: number): SoftmaxHead {
  const kernel = seededFrame(12, seed);

  return { featureLength: 6, classes: 2, kernel, bias: seededFrame(2, seed) };
}

async function features(session: ort.InferenceSession): Promise<Float32Array> {
  const frame = seededFrame(TINY_SIZE * TINY_SIZE * 3, 5);
  const input = new ort.Tensor('float32', frame, [1, TINY_SIZE, TINY_SIZE, 3]);

  return (await session.run({ input }))['features'].data as Float32Array;
}

before(async () => {
  await initTensorflow();
  root = await mkdtemp(path.join(os.tmpdir(), 'ep-graph-cache-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('builds, checks and caches the graph the first time', async () => {
  const cacheDir = freshDir();
  const loaded = tinyBackbone();

  const graph = await prepareGraph(loaded, undefined, { cacheDir });
  await graph.session.release();

  assert.equal(graph.fromCache, false);
  assert.equal(graph.file, path.join(cacheDir, graphFileName(loaded.identity)));
  assert.ok((graph.check?.maxAbsDiff ?? Infinity) < 1e-5);
  assert.deepEqual(await readdir(cacheDir), [path.basename(graph.file as string)]);
});

test('opens the same cached file the second time without building or checking', async () => {
  const cacheDir = freshDir();
  const loaded = tinyBackbone();
  const first = await prepareGraph(loaded, head(1), { cacheDir });
  await first.session.release();
  const inode = (await stat(first.file as string)).ino;

  const second = await prepareGraph(loaded, head(1), { cacheDir });
  await second.session.release();

  assert.equal(second.fromCache, true);
  assert.equal(second.check, undefined);
  assert.equal(second.file, first.file);
  assert.equal((await stat(second.file as string)).ino, inode);
});

test('builds a new graph when the head changes', async () => {
  const cacheDir = freshDir();
  const loaded = tinyBackbone();
  const first = await prepareGraph(loaded, head(1), { cacheDir });
  await first.session.release();

  const second = await prepareGraph(loaded, head(2), { cacheDir });
  await second.session.release();

  assert.equal(second.fromCache, false);
  assert.notEqual(second.file, first.file);
});

test('builds a new graph when the backbone fingerprint changes', async () => {
  const cacheDir = freshDir();
  const first = await prepareGraph(tinyBackbone(), undefined, { cacheDir });
  await first.session.release();

  const changed = tinyBackbone({ seed: 2, fingerprintOf: 'retrained weights' });
  const second = await prepareGraph(changed, undefined, { cacheDir });

  assert.equal(second.fromCache, false);
  assert.notEqual(second.file, first.file);
  const expected = tfjsFeatures(changed, seededFrame(TINY_SIZE * TINY_SIZE * 3, 5), 1);
  assert.ok(maxAbsDiff(await features(second.session), expected) < 1e-5);
  await second.session.release();
});

test('keeps only the most recently used graphs and leaves other files alone', async () => {
  const cacheDir = freshDir();
  const loaded = tinyBackbone();
  const files = new Map<number, string>();
  // Head 1 is used again after head 2 was built, so head 2 is the least recently used.
  for (const seed of [1, 2, 1, 3]) {
    const graph = await prepareGraph(loaded, head(seed), { cacheDir, keep: 2 });
    await graph.session.release();
    files.set(seed, path.basename(graph.file as string));
    if (seed === 1) await writeFile(path.join(cacheDir, 'notes.txt'), 'not a graph');
    // Keeps the modification times apart even on coarse-grained file systems.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const expected = [files.get(1), files.get(3), 'notes.txt'];
  assert.deepEqual((await readdir(cacheDir)).sort(), expected.sort());
});

test('refuses a graph that differs from TensorFlow.js and caches nothing', async () => {
  const cacheDir = freshDir();
  const loaded = tinyBackbone();
  // The reference model has other weights, as an exporter bug would produce other numbers.
  loaded.featureModel = tinyBackbone({ seed: 9 }).featureModel;

  await assert.rejects(prepareGraph(loaded, undefined, { cacheDir }), {
    code: 'EP_EXPORT_MISMATCH',
    message: new RegExp(
      '^the ONNX graph for backbone layer "bottleneck" differs from TensorFlow.js by up to ' +
        '[0-9.e-]+ \\(tolerance 0.001\\) on the check frame; ' +
        'use engine "tfjs" and report this as an exporter bug$',
    ),
  });
  assert.deepEqual(await readdir(cacheDir).catch(() => []), []);
});

test('rebuilds a cached graph that ONNX Runtime cannot read', async () => {
  const cacheDir = freshDir();
  const loaded = tinyBackbone();
  const first = await prepareGraph(loaded, undefined, { cacheDir });
  await first.session.release();
  await writeFile(first.file as string, 'truncated by a power cut');

  const second = await prepareGraph(loaded, undefined, { cacheDir });
  await second.session.release();

  assert.equal(second.fromCache, false);
  assert.ok((await stat(second.file as string)).size > 1000);
});

test('still gives a working session when the cache directory cannot be written', async () => {
  const blocker = path.join(root, 'a-file');
  await writeFile(blocker, 'a file where the cache directory would be');

  const cacheDir = path.join(blocker, 'cache');

  const graph = await prepareGraph(tinyBackbone(), undefined, { cacheDir });

  assert.equal(graph.file, undefined);
  assert.equal((await features(graph.session)).length, 6);
  await graph.session.release();
});

test('rejects keep below 1, naming the value', async () => {
  await assert.rejects(prepareGraph(tinyBackbone(), undefined, { cacheDir: root, keep: 0 }), {
    code: 'EP_CONFIG_INVALID',
    message: 'keep must be an integer >= 1, received 0',
  });
});
