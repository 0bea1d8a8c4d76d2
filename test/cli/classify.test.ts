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

function classify(args: string[]): CliResult {
  const result = spawnSync(process.execPath, ['bin/edge-pothole.js', 'classify', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
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
