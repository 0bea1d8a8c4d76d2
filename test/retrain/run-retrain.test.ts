import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { NO_DISTORTIONS } from '../../src/preprocess/distort';
import { retrain, type RetrainOptions } from '../../src/retrain/run-retrain';
import { EdgePotholeError } from '../../src/util/errors';
import { SAMPLES_DIR } from '../helpers/paths';
import { PixelEngine } from './pixel-engine';

// retrain() end to end on the 24 shipped sample photos, with the quadrant-means engine in
// place of Inception v3 so each run takes a fraction of a second. test/cli/retrain.test.ts
// runs the real command on the real backbone.

let tmp: string;
let runs = 0;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-run-retrain-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A copy of samples/ (12 photos per class), to which a test may add files. */
async function sampleDir(): Promise<string> {
  runs += 1;
  const root = path.join(tmp, `images-${runs}`);
  for (const label of ['normal', 'pothole']) {
    await mkdir(path.join(root, label), { recursive: true });
    for (const name of await readdir(path.join(SAMPLES_DIR, label))) {
      await copyFile(path.join(SAMPLES_DIR, label, name), path.join(root, label, name));
    }
  }

  return root;
}

function collector(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk, _encoding, done) { text += chunk; done(); } });

  return { stream, text: () => text };
}

async function run(imageDir: string, overrides: Partial<RetrainOptions> = {}) {
  runs += 1;
  const engine = new PixelEngine();
  const out = collector();
  const options: RetrainOptions = {
    imageDir,
    outputDir: path.join(tmp, `model-${runs}`),
    bottleneckDir: path.join(tmp, `bn-${runs}`),
    steps: 30, learningRate: 0.5, trainBatchSize: 10, validationBatchSize: -1, testBatchSize: -1,
    evalStepInterval: 10, intermediateStoreFrequency: 0, seed: 1, testingPercentage: 10,
    validationPercentage: 10, allowSmallClasses: true, printMisclassified: true, engine: 'auto',
    layer: 'quadrants', engineFactory: async () => engine, out: out.stream, ...overrides,
  };
  const result = await retrain(options);

  return { result, engine, options, stdout: out.text() };
}

const sha = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

describe('retrain on the sample photos', () => {
  let done: Awaited<ReturnType<typeof run>>;

  before(async () => {
    done = await run(await sampleDir(), {
      finalTensorName: 'road_state', outputLabels: path.join(tmp, 'out', 'output_labels.txt'),
      intermediateStoreFrequency: 10, intermediateOutputGraphsDir: path.join(tmp, 'intermediate'),
    });
  });

  test('writes the model, labels, metadata, curves and pictures into the model dir', async () => {
    assert.deepEqual((await readdir(done.options.outputDir)).sort(), ['accuracy.svg',
      'confusion_matrix.svg', 'cross_entropy.svg', 'labels.txt', 'metadata.json', 'metrics.csv',
      'metrics.jsonl', 'model.json', 'weights.bin']);
    assert.equal(await readFile(path.join(done.options.outputDir, 'labels.txt'), 'utf8'),
      'normal\npothole\n');
    const csv = (await readFile(path.join(done.options.outputDir, 'metrics.csv'), 'utf8')).trim();
    const steps = csv.split('\n').slice(1).map((line) => line.split(',')[0]);
    assert.deepEqual(steps, ['10', '20', '30']);
  });

  test('stores the test report, the split and the settings in metadata.json', async () => {
    const metadata = JSON.parse(await readFile(path.join(done.options.outputDir, 'metadata.json'),
      'utf8'));

    assert.deepEqual(metadata.test_report, JSON.parse(JSON.stringify(done.result.report)));
    assert.equal(metadata.test_accuracy, done.result.report.accuracy);
    assert.equal(metadata.training.final_tensor_name, 'road_state');
    assert.equal(metadata.training.seed, 1);
    const { training, validation, testing } = metadata.training.images;
    assert.equal(training + validation + testing, 24);
    assert.ok(validation >= 2 && testing >= 2, 'each class has an image in every set');
  });

  test('prints the report, the misclassified images and the final accuracy line', () => {
    assert.match(done.stdout, /^test set: accuracy \d+\.\d% \(N=\d+\)\n/);
    assert.match(done.stdout, /confusion matrix \(rows = true, columns = predicted\):/);
    assert.match(done.stdout, /pothole at thresholds/);
    assert.match(done.stdout, /misclassified test images:/);
    assert.match(done.stdout, /\nFinal test accuracy = \d+\.\d% \(N=\d+\)\n$/);
  });

  test('writes --output_labels and an intermediate model every 10 steps but the last', async () => {
    assert.equal(await readFile(done.options.outputLabels as string, 'utf8'), 'normal\npothole\n');
    assert.deepEqual((await readdir(path.join(tmp, 'intermediate'))).sort(),
      ['intermediate_10', 'intermediate_20']);
    const model = await readFile(path.join(tmp, 'intermediate', 'intermediate_20', 'model.json'),
      'utf8');
    assert.match(model, /"name":"road_state"/);
  });

  test('disposes the engine at the end', () => {
    assert.equal(done.engine.disposed, true);
  });
});

test('repeats the same weights with the same seed, from a cold or a warm cache', async () => {
  const images = await sampleDir();
  const bottleneckDir = path.join(tmp, 'shared-cache');

  const cold = await run(images, { bottleneckDir });
  const warm = await run(images, { bottleneckDir });

  assert.equal(warm.engine.frames, 0, 'every bottleneck came from the cache');
  assert.equal(await sha(path.join(warm.options.outputDir, 'weights.bin')),
    await sha(path.join(cold.options.outputDir, 'weights.bin')));
});

test('skips unreadable files and counts them in the summary and the metadata', async () => {
  const images = await sampleDir();
  const photo = await readFile(path.join(images, 'pothole', (await readdir(path.join(images,
    'pothole')))[0]));
  await writeFile(path.join(images, 'pothole', 'truncated.jpg'), photo.subarray(0, 2000));
  await writeFile(path.join(images, 'normal', 'empty.jpg'), '');
  await writeFile(path.join(images, 'normal', 'notes.jpg'), 'lat,lon\n');
  await writeFile(path.join(images, 'normal', 'clip.jpg'),
    Buffer.concat([Buffer.from('00000018667479706d703432', 'hex'), Buffer.alloc(64)]));

  const { result, stdout, options } = await run(images);

  assert.equal(result.skipped, 4);
  assert.match(stdout, /\n4 file\(s\) skipped: 1 unreadable image\(s\), 3 not image\(s\) /);
  const metadata = JSON.parse(await readFile(path.join(options.outputDir, 'metadata.json'),
    'utf8'));
  assert.deepEqual([metadata.training.skipped_images, metadata.training.not_images], [1, 3]);
});

test('writes nothing, not even bottlenecks, when a class has too few photos', async () => {
  const images = await sampleDir();
  const outputDir = path.join(tmp, 'never-written');
  const bottleneckDir = path.join(tmp, 'never-cached');

  await assert.rejects(run(images, { allowSmallClasses: false, outputDir, bottleneckDir }),
    (err: unknown) => err instanceof EdgePotholeError && err.code === 'EP_DATASET_INVALID' &&
      /has 12 images, fewer than the minimum of 20/.test(err.message));

  assert.equal(existsSync(outputDir), false);
  assert.equal(existsSync(bottleneckDir), false);
});

test('with distortions runs every training example through the engine, caching only the others',
  async () => {
    const images = await sampleDir();
    const distortions = { ...NO_DISTORTIONS, flipLeftRight: true, randomBrightness: 10 };

    const { engine, options } = await run(images, { distortions, steps: 5, trainBatchSize: 7 });

    const metadata = JSON.parse(await readFile(path.join(options.outputDir, 'metadata.json'),
      'utf8'));
    const { validation, testing } = metadata.training.images;
    assert.equal(engine.frames, validation + testing + 5 * 7);
    assert.equal(metadata.training.distorted_frames, 35);
    assert.deepEqual(metadata.training.distortions, distortions);
    const cached = await readdir(path.join(options.bottleneckDir), { recursive: true });
    const vectors = cached.filter((name) => String(name).endsWith('.f32'));
    assert.equal(vectors.length, validation + testing);
  });
