import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { REPO_ROOT, SHIPPED_MODEL_DIR } from '../helpers/paths';

// Each classify run loads the shipped model (about 3 s), so runs are shared between tests.
const POTHOLE = 'samples/pothole/img-102_jpg.rf.edba2eaa086ec2deb41f246c8548bc97.jpg';
const NORMAL = 'samples/normal/frame675_jpg.rf.3135a09cb0dc79b21a3936e476334b4a.jpg';
const SCORE_LINE = /^(\S+) \(score = (\d\.\d{5})\)$/;

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

let tmp: string;
let labels: string[];

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-classify-'));
  labels = (await readFile(path.join(SHIPPED_MODEL_DIR, 'labels.txt'), 'utf8')).trim().split('\n');
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function classify(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, ['bin/edge-pothole.js', 'classify', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });

  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Text output -> [file, [[label, score], ...]] blocks. */
function parseText(stdout: string): Array<[string, Array<[string, number]>]> {
  const blocks: Array<[string, Array<[string, number]>]> = [];
  for (const line of stdout.trimEnd().split('\n')) {
    const match = SCORE_LINE.exec(line);
    if (match) {
      assert.ok(blocks.length > 0, `a score line before any file name: ${line}`);
      blocks[blocks.length - 1][1].push([match[1], Number(match[2])]);
    } else {
      blocks.push([line, []]);
    }
  }

  return blocks;
}

function parseJsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return assert.fail(`not a JSON line: ${line}`);
      }
    });
}

/** A --json result line for a readable image: the fields, the label being the best score. */
function assertClassified(line: Record<string, unknown>, file: string): void {
  assert.deepEqual(Object.keys(line).sort(), ['confidence', 'file', 'label', 'scores']);
  assert.equal(line.file, file);
  const scores = line.scores as Record<string, number>;
  assert.deepEqual(Object.keys(scores), labels);
  const sum = Object.values(scores).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-4, `scores sum to ${sum}`);
  const best = Math.max(...Object.values(scores));
  assert.equal(line.confidence, best);
  assert.equal(scores[line.label as string], best);
}

test('prints the file and "label (score = X)" lines, best first, summing to 1', () => {
  const { status, stdout, stderr } = classify([POTHOLE, NORMAL]);

  assert.equal(status, 0, stderr);
  const blocks = parseText(stdout);
  assert.deepEqual(
    blocks.map(([file]) => file),
    [POTHOLE, NORMAL],
  );
  for (const [file, ranked] of blocks) {
    assert.deepEqual(ranked.map(([label]) => label).sort(), [...labels].sort(), file);
    const scores = ranked.map(([, score]) => score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      `${file}: best first`,
    );
    const sum = scores.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 2e-5, `${file}: scores sum to ${sum}`);
  }
  assert.match(stderr, /2 of 2 images classified/);
});

describe('classify --json with an unreadable file between two photos', () => {
  let result: CliResult;
  let notes: string;

  before(async () => {
    notes = path.join(tmp, 'notes.jpg');
    await writeFile(notes, 'lat,lon,pothole\n52.1,4.3,yes\n');
    result = classify(['--json', POTHOLE, notes, NORMAL]);
  });

  test('exits 2 because one file could not be read', () => {
    assert.equal(result.status, 2, result.stderr);
  });

  test('prints one JSON line per file, in the order given', () => {
    const lines = parseJsonLines(result.stdout);

    assert.deepEqual(
      lines.map((line) => line.file),
      [POTHOLE, notes, NORMAL],
    );
  });

  test('gives file, label, confidence and scores per photo, also after the bad file', () => {
    const [first, , third] = parseJsonLines(result.stdout);

    assertClassified(first, POTHOLE);
    assertClassified(third, NORMAL);
  });

  test('gives only file and error for the unreadable file, the error naming it', () => {
    const bad = parseJsonLines(result.stdout)[1];

    assert.deepEqual(Object.keys(bad), ['file', 'error']);
    assert.match(
      bad.error as string,
      new RegExp(
        `^cannot read image ${notes.replace(/[.\\]/g, '\\$&')}: .+ ` +
          '\\(expected a JPEG, PNG, WebP, GIF, TIFF or AVIF file\\)$',
      ),
    );
  });
});

test('classifies every image in a folder, sub-folders included, hidden files skipped', async () => {
  const folder = path.join(tmp, 'frames');
  await mkdir(path.join(folder, 'later'), { recursive: true });
  const names = ['a.jpg', 'b.jpg', 'later/c.jpg'];
  await copyFile(path.join(REPO_ROOT, POTHOLE), path.join(folder, names[0]));
  await copyFile(path.join(REPO_ROOT, NORMAL), path.join(folder, names[1]));
  await copyFile(path.join(REPO_ROOT, POTHOLE), path.join(folder, names[2]));
  await writeFile(path.join(folder, '.DS_Store'), 'Bud1');

  const { status, stdout, stderr } = classify(['--json', folder]);

  assert.equal(status, 0, stderr);
  const lines = parseJsonLines(stdout);
  assert.deepEqual(
    lines.map((line) => line.file),
    names.map((name) => path.join(folder, name)),
  );
  lines.forEach((line, i) => assertClassified(line, path.join(folder, names[i])));
});

test('keeps input order across engine batches of 8, an unreadable file in its place', async () => {
  const files = Array.from({ length: 11 }, (_, i) => path.join(tmp, 'batches', `${i}.jpg`));
  await mkdir(path.join(tmp, 'batches'));
  for (const [i, file] of files.entries()) {
    if (i === 9) await writeFile(file, 'not a photo');
    else await copyFile(path.join(REPO_ROOT, i % 2 ? NORMAL : POTHOLE), file);
  }

  const { status, stdout, stderr } = classify(['--json', ...files]);

  assert.equal(status, 2, stderr);
  const lines = parseJsonLines(stdout);
  assert.deepEqual(lines.map((line) => line.file), files);
  assert.ok('error' in lines[9]);
  // Photos 0 and 8 are the same, one in each batch (of 8 frames and of 2).
  const [first, again] = [lines[0].scores, lines[8].scores] as Array<Record<string, number>>;
  for (const label of labels) assert.ok(Math.abs(first[label] - again[label]) < 1e-4, label);
  assert.match(stderr, /^10 of 11 images classified in /m);
});

test("takes label_image.py's --image flag and prints one label with --top_k 1", () => {
  const { status, stdout, stderr } = classify(['--image', POTHOLE, '--top_k', '1']);

  assert.equal(status, 0, stderr);
  const blocks = parseText(stdout);
  assert.equal(blocks.length, 1);
  const [file, ranked] = blocks[0];
  assert.equal(file, POTHOLE);
  assert.equal(ranked.length, 1);
  assert.ok(labels.includes(ranked[0][0]));
  assert.ok(ranked[0][1] >= 1 / labels.length, 'the one label shown is the best');
});

test('refuses an unknown flag, naming it, and prints nothing on stdout', () => {
  const { status, stdout, stderr } = classify(['--bogus', POTHOLE]);

  assert.notEqual(status, 0);
  assert.match(stderr, /^edge-pothole classify: \[EP_USAGE\] Unknown option '--bogus'/);
  assert.equal(status, 64, stderr);
  assert.equal(stdout, '');
});

describe("label_image.py's model flags, checked against a copy of the shipped model", () => {
  let model: string;

  before(async () => {
    model = path.join(tmp, 'model copy');
    await mkdir(model);
    for (const file of ['model.json', 'weights.bin', 'labels.txt', 'metadata.json']) {
      await copyFile(path.join(SHIPPED_MODEL_DIR, file), path.join(model, file));
    }
  });

  test('reads --graph as the model directory or its model.json, with the checked input flags',
    () => {
      for (const graph of [model, path.join(model, 'model.json')]) {
        const { status, stdout, stderr } = classify(['--graph', graph, '--input_height', '299',
          '--input_width', '299', '--input_mean', '127.5', '--input_std', '127.5',
          '--output_layer', 'final_result', '--input_layer', 'Placeholder', '--top_k', '1',
          POTHOLE]);

        assert.equal(status, 0, stderr);
        assert.equal(parseText(stdout)[0][0], POTHOLE);
        assert.match(stderr, /^1 of 1 images classified in \d+\.\d\d s \(\d+\.\d images\/s, /m);
      }
    });

  const refusals: Array<[string, string[], RegExp]> = [
    ['a TensorFlow .pb file as --graph', ['--graph', 'README.md'],
      /\[EP_USAGE\] --graph "README\.md" is a file; .* not a TensorFlow GraphDef; pass that/],
    ["label_image.py's default normalisation, --input_mean 0 --input_std 255",
      ['--input_mean', '0', '--input_std', '255'],
      new RegExp('--input_mean 0 --input_std 255 would feed \\(x - 0\\) / 255, ' +
        "but this model's normalisation is fixed: x / 127\\.5 - 1")],
    ['an input size the model was not built for', ['--input_height', '224'],
      /--input_height 224 does not match the model, whose input is 299x299/],
    ['an --output_layer the model does not have', ['--output_layer', 'InceptionV3/Predictions'],
      /--output_layer "InceptionV3\/Predictions" is not the output of .*, which is "final_result"/,
    ],
  ];
  for (const [what, args, message] of refusals) {
    test(`refuses ${what}, saying why, before classifying anything`, () => {
      const { status, stdout, stderr } = classify([...args, POTHOLE]);

      assert.equal(status, 64, stderr);
      assert.match(stderr, message);
      assert.equal(stdout, '');
    });
  }

  test('refuses a --labels file whose count differs from the outputs', async () => {
    const three = path.join(tmp, 'three-labels.txt');
    await writeFile(three, 'normal\npothole\nspeed bump\n');

    const { status, stderr } = classify(['--graph', model, '--labels', three, POTHOLE]);

    assert.equal(status, 1);
    assert.match(stderr, new RegExp(`\\[EP_MODEL_INVALID\\] labels file ${three} has 3 labels ` +
      'but the model in .* has 2 outputs'));
  });

  test("refuses a model whose labels.txt count differs from the model's outputs", async () => {
    await writeFile(path.join(model, 'labels.txt'), 'normal\n');

    const { status, stderr } = classify(['--graph', model, POTHOLE]);

    assert.equal(status, 1);
    assert.match(stderr, new RegExp('\\[EP_MODEL_INVALID\\] model directory .*: ' +
      'labels.txt has 1 labels but the model has 2 outputs'));
  });

  test('warns when labels.txt disagrees with metadata.json, and uses labels.txt', async () => {
    await writeFile(path.join(model, 'labels.txt'), 'smooth\ndamaged\n');

    const { status, stdout, stderr } = classify(['--graph', model, '--json', POTHOLE],
      { EDGE_POTHOLE_LOG_LEVEL: 'warn' });

    assert.equal(status, 0, stderr);
    const warning = stderr.split('\n').find((line) => line.includes('disagrees with metadata'));
    assert.ok(warning, stderr);
    assert.equal(JSON.parse(warning).level, 40);
    assert.deepEqual(Object.keys(parseJsonLines(stdout)[0].scores as object),
      ['smooth', 'damaged']);
  });
});
