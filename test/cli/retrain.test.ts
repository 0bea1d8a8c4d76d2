import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { logLevelOf } from '../../src/cli/retrain';
import { applyHead } from '../../src/infer/head';
import { loadModelDir } from '../../src/infer/model-dir';
import { prepareImageFile } from '../../src/preprocess/image';
import { normalizeBatch } from '../../src/preprocess/normalize';
import { runCli, type CliResult } from '../helpers/cli';
import { REPO_ROOT, SAMPLES_DIR } from '../helpers/paths';

// The real command on the real backbone (ONNX Runtime), on the 24 sample photos: each run
// computes up to 30 bottlenecks cold (a few seconds) and trains a few steps.

const RETRAIN_PY_FLAGS = ['image_dir', 'output_graph', 'intermediate_output_graphs_dir',
  'intermediate_store_frequency', 'output_labels', 'summaries_dir', 'how_many_training_steps',
  'learning_rate', 'testing_percentage', 'validation_percentage', 'eval_step_interval',
  'train_batch_size', 'test_batch_size', 'validation_batch_size',
  'print_misclassified_test_images', 'bottleneck_dir', 'final_tensor_name', 'flip_left_right',
  'random_crop', 'random_scale', 'random_brightness', 'tfhub_module', 'saved_model_dir',
  'logging_verbosity'];

let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-cli-retrain-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A copy of samples/ under `name`, each photo `copies` times (distinct names, same content). */
async function sampleDir(name: string, copies = 1): Promise<string> {
  const root = path.join(tmp, name);
  for (const label of ['normal', 'pothole']) {
    await mkdir(path.join(root, label), { recursive: true });
    for (const photo of await readdir(path.join(SAMPLES_DIR, label))) {
      for (let i = 0; i < copies; i++) {
        await copyFile(path.join(SAMPLES_DIR, label, photo),
          path.join(root, label, `${i}-${photo}`));
      }
    }
  }

  return root;
}

/** The JSON log lines of a run's stderr with message `msg`. */
function logLines(result: CliResult, msg: string): Array<Record<string, unknown>> {
  return result.stderr.split('\n').filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === msg);
}

test('lists every retrain.py flag in --help', async () => {
  const { code, stdout } = await runCli(['retrain', '--help']);

  assert.equal(code, 0);
  for (const flag of RETRAIN_PY_FLAGS) assert.match(stdout, new RegExp(`--${flag}\\b`), flag);
  assert.match(stdout, /@tensorflow\/tfjs-node/);
});

test('refuses an unknown flag, naming it, with exit code 64', async () => {
  const { code, stderr } = await runCli(['retrain', '--image_dir', SAMPLES_DIR,
    '--output_grpah', 'x']);

  assert.equal(code, 64);
  assert.match(stderr, /^edge-pothole retrain: \[EP_USAGE\] Unknown option '--output_grpah'/);
});

test('reads kebab-case flags as retrain.py\'s snake_case ones', async () => {
  const missing = path.join(tmp, 'no-such-dir');

  const { code, stderr } = await runCli(['retrain', '--image-dir', missing,
    '--how-many-training-steps', '5', '--logging-verbosity', 'error']);

  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`\\[EP_DATASET_INVALID\\] image dir ${missing} cannot be read`));
});

test('maps retrain.py\'s logging verbosities, in any case, and refuses others', () => {
  assert.deepEqual(['DEBUG', 'info', 'Warn', 'WARNING', 'error', 'FATAL'].map(logLevelOf),
    ['debug', 'info', 'warn', 'warn', 'error', 'fatal']);
  assert.throws(() => logLevelOf('verbose'), { code: 'EP_USAGE',
    message: '--logging_verbosity must be one of DEBUG, INFO, WARN, ERROR, FATAL (any case), ' +
      'got "verbose"' });
});

test('refuses a TF Hub module other than Inception v3, before any work', async () => {
  const module = 'https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/2';

  const { code, stderr } = await runCli(['retrain', '--image_dir', SAMPLES_DIR,
    '--tfhub_module', module]);

  assert.equal(code, 64);
  assert.match(stderr, /the Inception v3 of the npm package nsfwjs; drop --tfhub_module/);
});

test('stops before any bottleneck work when the image dir has one class', async () => {
  const root = path.join(tmp, 'one-class');
  await mkdir(path.join(root, 'pothole'), { recursive: true });
  const bottlenecks = path.join(tmp, 'one-class-cache');

  const { code, stderr } = await runCli(['retrain', '--image_dir', root,
    '--bottleneck_dir', bottlenecks, '--output_dir', path.join(tmp, 'one-class-model')]);

  assert.equal(code, 1);
  assert.match(stderr,
    /\[EP_DATASET_INVALID\] image dir .*one-class has 1 class folder\(s\) \(pothole\); at least 2/);
  assert.equal(existsSync(bottlenecks), false);
  assert.equal(existsSync(path.join(tmp, 'one-class-model')), false);
});

describe('retrain on samples with bad files and awkward names, as retrain.py would be run', () => {
  let result: CliResult;
  let root: string;
  const graph = () => path.join(tmp, 'out', 'retrained_graph.pb');
  const labels = () => path.join(tmp, 'out', 'retrained_labels.txt');
  const bad = ['pothole/truncated.jpg', 'pothole/empty.jpg', 'normal/notes.jpg', 'normal/clip.jpg'];

  before(async () => {
    root = await sampleDir('awkward');
    const photo = await readFile(path.join(SAMPLES_DIR, 'pothole', (await readdir(
      path.join(SAMPLES_DIR, 'pothole')))[3]));
    await writeFile(path.join(root, bad[0]), photo.subarray(0, 4000));
    await writeFile(path.join(root, bad[1]), '');
    await writeFile(path.join(root, bad[2]), 'lat,lon\n52.1,4.3\n');
    await writeFile(path.join(root, bad[3]),
      Buffer.concat([Buffer.from('00000018667479706d703432', 'hex'), Buffer.alloc(64)]));
    for (const name of ['pot hole.jpg', 'ornière é.jpg'.normalize('NFD'), '道路.jpg']) {
      await copyFile(path.join(SAMPLES_DIR, 'pothole', (await readdir(path.join(SAMPLES_DIR,
        'pothole')))[5]), path.join(root, 'pothole', name));
    }

    result = await runCli(['retrain', '--image_dir', root, '--output_graph', graph(),
      '--output_labels', labels(), '--bottleneck_dir', path.join(tmp, 'awkward-cache'),
      '--how_many_training_steps', '20', '--allow_small_classes',
      '--print_misclassified_test_images'], { timeoutMs: 300_000 });
  });

  test('succeeds and writes the model directory at --output_graph and the labels', async () => {
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await stat(path.join(graph(), 'model.json'))).isFile());
    assert.equal(await readFile(labels(), 'utf8'), 'normal\npothole\n');
  });

  test('warns once about each bad file, naming it', () => {
    const warned = [...logLines(result, 'image skipped'),
      ...logLines(result, 'not an image file, skipped')].map((line) => line.file).sort();

    assert.deepEqual(warned, bad.map((name) => path.join(root, name)).sort());
  });

  test('counts the skipped files in the summary', () => {
    assert.match(result.stdout, /\n4 file\(s\) skipped: 1 unreadable image\(s\), 3 not image\(s\)/);
    assert.match(result.stdout, /\nFinal test accuracy = \d+\.\d% \(N=\d+\)\n$/);
  });

  test('reads the photos named with spaces, accents and CJK', async () => {
    const metadata = JSON.parse(await readFile(path.join(graph(), 'metadata.json'), 'utf8'));
    const { training, validation, testing } = metadata.training.images;

    assert.equal(training + validation + testing, 24 + 3);
  });

  test('is read by classify --graph and --labels, as label_image.py reads retrain.py output',
    async () => {
      const photo = path.join(root, 'pothole', 'pot hole.jpg');

      const classified = await runCli(['classify', '--graph', graph(), '--labels', labels(),
        '--image', photo], { env: { EDGE_POTHOLE_CACHE_DIR: path.join(tmp, 'graph-cache') } });

      assert.equal(classified.code, 0, classified.stderr);
      assert.match(classified.stdout, new RegExp(`^${photo}\\n(normal|pothole) \\(score = `));
    });
});

test('exports with --saved_model_dir an ONNX model whose scores are the model directory\'s',
  async () => {
    const ort = await import('onnxruntime-node');
    const exported = path.join(tmp, 'saved model');
    const output = path.join(tmp, 'exported-from');
    // A private graph cache: the exports of throwaway heads must not push the shipped model's
    // graph out of the shared one (it keeps three).
    const env = { EDGE_POTHOLE_CACHE_DIR: path.join(tmp, 'graph-cache') };

    const result = await runCli(['retrain', '--image_dir', await sampleDir('export'),
      '--output_dir', output, '--bottleneck_dir', path.join(tmp, 'export-cache'),
      '--how_many_training_steps', '30', '--allow_small_classes', '--saved_model_dir', exported],
    { env, timeoutMs: 300_000 });

    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(exported)).sort(),
      ['labels.txt', 'model.onnx', 'signature.json']);
    const session = await ort.InferenceSession.create(path.join(exported, 'model.onnx'));
    const { pixels } = await prepareImageFile(path.join(SAMPLES_DIR, 'pothole',
      (await readdir(path.join(SAMPLES_DIR, 'pothole')))[0]));
    const input = new ort.Tensor('float32', normalizeBatch([pixels]), [1, 299, 299, 3]);
    const out = await session.run({ input });
    const { head } = await loadModelDir(output);
    const expected = applyHead(head, out.features.data as Float32Array);
    const scores = [...(out.scores.data as Float32Array)];
    scores.forEach((score, i) => assert.ok(Math.abs(score - expected[i]) < 1e-4, `${scores}`));
    await session.release();
  });

test('Ctrl-C mid-way leaves no model and a valid cache, and the next run succeeds', async () => {
  // Two copies of each photo: 48 bottlenecks to compute, so the interrupt lands among them.
  const root = await sampleDir('interrupted', 2);
  const cache = path.join(tmp, 'interrupted-cache');
  const output = path.join(tmp, 'interrupted-model');
  const args = [path.join(REPO_ROOT, 'bin', 'edge-pothole.js'), 'retrain', '--image_dir', root,
    '--output_dir', output, '--bottleneck_dir', cache, '--how_many_training_steps', '10',
    '--allow_small_classes'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdout.resume();

  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });

  const cached = await waitForCacheFiles(cache, 1);
  child.kill('SIGINT');

  assert.equal(await exited, 130);
  assert.match(stderr, /"msg":"interrupted: no model written, finished bottlenecks stay cached"/);
  assert.doesNotMatch(stderr, /bottlenecks ready/, 'stopped while computing bottlenecks');
  assert.equal(existsSync(output), false, 'no model directory');
  assert.deepEqual((await readdir(tmp)).filter((n) => n.startsWith('.interrupted-model')), []);
  const files = await cacheFiles(cache);
  assert.ok(files.length >= cached && files.length < 24, `${files.length} bottlenecks cached`);
  const sizes = new Set(await Promise.all(files.map(async (file) => (await stat(file)).size)));
  const leftovers = (await readdir(cache, { recursive: true })).map(String)
    .filter((name) => name.includes('.tmp-'));
  assert.deepEqual(leftovers, [], 'no half-written cache file');

  const rerun = await runCli(args.slice(1), { timeoutMs: 300_000 });
  assert.equal(rerun.code, 0, rerun.stderr);
  const [ready] = logLines(rerun, 'bottlenecks ready');
  // Copies share their content: each cached file serves both copies of its photo (and a
  // copy computed earlier in this run serves the later one too).
  assert.ok((ready.fromCache as number) >= files.length * 2, JSON.stringify(ready));
  assert.equal((ready.fromCache as number) + (ready.computed as number), 48);
  assert.ok((await stat(path.join(output, 'weights.bin'))).size > 0);
  // Every file the interrupted run left is one whole vector of the backbone's length.
  const metadata = JSON.parse(await readFile(path.join(output, 'metadata.json'), 'utf8'));
  assert.deepEqual([...sizes], [metadata.backbone.featureLength * 4]);
});

async function cacheFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir, { recursive: true })).map(String);

  return names.filter((name) => name.endsWith('.f32')).map((name) => path.join(dir, name));
}

async function waitForCacheFiles(dir: string, count: number): Promise<number> {
  for (let waited = 0; waited < 120_000; waited += 100) {
    const found = (await cacheFiles(dir)).length;
    if (found >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return assert.fail(`no bottleneck cached in ${dir} after 120 s`);
}

test('names an unknown kebab-case flag as it was typed', async () => {
  const result = await runCli(['retrain', '--output-grpah', 'x']);

  assert.equal(result.code, 64);
  assert.match(result.stderr, /Unknown option '--output-grpah'/);
  assert.doesNotMatch(result.stderr, /output_grpah/);
});
