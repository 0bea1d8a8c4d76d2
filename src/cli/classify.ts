import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { createEngine } from '../infer/create-engine';
import type { EngineChoice, InferenceEngine } from '../infer/engine';
import { loadModelDir, type LoadedModel } from '../infer/model-dir';
import { prepareImageFile } from '../preprocess/image';
import { EdgePotholeError } from '../util/errors';
import { configureLogger } from '../util/logger';
import { numberFlag, parseFlags, stringFlag, type FlagSpec } from './args';

const DEFAULT_MODEL_DIR = path.resolve(__dirname, '..', '..', '..', 'models', 'pothole');

const USAGE = `usage: edge-pothole classify [--model DIR] [--top_k N] [--json] IMAGE|DIR...

Classifies image files with a retrained model, like label_image.py: prints "label (score = X)"
lines per image, or with --json one JSON object per line:
  {"file", "label", "confidence", "scores"}  or  {"file", "error"} for an unreadable image.
Exit code 0 when every image was classified, 2 when some could not be read.

  --model DIR            model directory (default: the shipped models/pothole)
  --image FILE           an image, as label_image.py takes it (may be repeated)
  --top_k N              labels shown per image (default 5; alias --num_top_predictions)
  --json                 JSON lines on stdout
  --engine NAME          auto, onnxruntime or tfjs (default auto)
`;

const FLAGS: Record<string, FlagSpec> = {
  model: { type: 'string' },
  image: { type: 'string', multiple: true },
  top_k: { type: 'string' },
  num_top_predictions: { type: 'string' },
  json: { type: 'boolean' },
  engine: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** Arguments that are folders expand to the image files inside them, in name order. */
async function expandInputs(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info?.isDirectory()) {
      const names = (await readdir(input, { recursive: true })).map(String).sort();
      for (const name of names) {
        const full = path.join(input, name);
        if ((await stat(full)).isFile() && !path.basename(name).startsWith('.')) files.push(full);
      }
    } else {
      files.push(input);
    }
  }

  return files;
}

interface Outcome { file: string; scores?: Float32Array; error?: string }

async function classifyOne(file: string, engine: InferenceEngine): Promise<Outcome> {
  try {
    const input = await prepareImageFile(file, { size: engine.backbone.inputSize });
    const [scores] = await engine.scores([input.pixels]);

    return { file, scores };
  } catch (err) {
    if (err instanceof EdgePotholeError && err.code === 'EP_IMAGE_UNREADABLE') return { file, error: err.message };
    throw err;
  }
}

function render(outcome: Outcome, model: LoadedModel, topK: number, json: boolean): string {
  if (outcome.error) return json ? JSON.stringify({ file: outcome.file, error: outcome.error }) : '';

  const scores = outcome.scores as Float32Array;
  const ranked = model.labels.map((label, i) => ({ label, score: scores[i] }))
    .sort((a, b) => b.score - a.score);
  if (json) {
    return JSON.stringify({ file: outcome.file, label: ranked[0].label, confidence: ranked[0].score,
      scores: Object.fromEntries(model.labels.map((label, i) => [label, scores[i]])) });
  }

  return [outcome.file, ...ranked.slice(0, topK).map((r) => `${r.label} (score = ${r.score.toFixed(5)})`)]
    .join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(USAGE);

    return 0;
  }
  configureLogger({ fd: 2, level: process.env.EDGE_POTHOLE_LOG_LEVEL ?? 'warn' });

  const inputs = [...((values.image as string[] | undefined) ?? []), ...positionals];
  if (inputs.length === 0) throw new EdgePotholeError('EP_USAGE', `no image given\n\n${USAGE}`);
  const topK = numberFlag(values, 'top_k', numberFlag(values, 'num_top_predictions', 5, { min: 1, integer: true }),
    { min: 1, integer: true });
  const json = Boolean(values.json);

  const model = await loadModelDir(stringFlag(values, 'model', DEFAULT_MODEL_DIR) as string);
  const engine = await createEngine({ engine: stringFlag(values, 'engine', 'auto') as EngineChoice,
    layer: model.metadata.backbone.layer, head: model.head });
  const files = await expandInputs(inputs);

  const startedAt = performance.now();
  let failed = 0;
  for (const file of files) {
    const outcome = await classifyOne(file, engine);
    if (outcome.error) {
      failed += 1;
      if (!json) process.stderr.write(`edge-pothole classify: ${outcome.error}\n`);
    }
    const text = render(outcome, model, topK, json);
    if (text) process.stdout.write(`${text}\n`);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  process.stderr.write(`${files.length - failed} of ${files.length} images classified in ` +
    `${seconds.toFixed(2)} s (${((files.length - failed) / seconds).toFixed(1)} images/s, ` +
    `${engine.engine}/${engine.backend})\n`);
  await engine.dispose();

  return failed > 0 ? 2 : 0;
}
