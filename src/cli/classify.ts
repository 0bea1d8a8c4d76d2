import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { createEngine } from '../infer/create-engine';
import type { EngineChoice, InferenceEngine } from '../infer/engine';
import { loadModelDir, MODEL_FILES, type LoadedModel } from '../infer/model-dir';
import { decodeFileNow, ENGINE_BATCH, runPipeline, type Prepared } from '../retrain/frame-pipeline';
import { EdgePotholeError, hasCode } from '../util/errors';
import { configureLogger, stageLogger } from '../util/logger';
import { numberFlag, parseFlags, stringFlag, type FlagSpec, type ParsedFlags } from './args';

const DEFAULT_MODEL_DIR = path.resolve(__dirname, '..', '..', '..', 'models', 'pothole');

/** The model's own normalisation, x / 127.5 - 1, in label_image.py's terms (x - mean) / std. */
const MODEL_MEAN = 127.5;
const MODEL_STD = 127.5;

const USAGE = `usage: edge-pothole classify [--graph DIR] [--top_k N] [--json] IMAGE|DIR...

Classifies image files with a retrained model, like label_image.py: prints the file name and
"label (score = X)" lines per image, or with --json one JSON object per line:
  {"file", "label", "confidence", "scores"}  or  {"file", "error"} for an unreadable image.
Folders are read recursively (hidden files skipped). Images go through the engine 8 at a
time, decoded while the previous batch is computed; the rate is printed at the end.
Exit code 0 when every image was classified, 2 when some could not be read.

  --graph DIR                the model directory written by retrain, or its model.json
                             (default: the shipped models/pothole); --model DIR is the same
  --image FILE               an image, as label_image.py takes it (may be repeated)
  --labels FILE              labels, one per line (default: the model's labels.txt); refused
                             when the count differs from the model's outputs
  --top_k N                  labels shown per image (default 5; alias --num_top_predictions)
  --json                     JSON lines on stdout
  --engine NAME              auto, onnxruntime or tfjs (default auto)

label_image.py flags that describe the model's input are checked, not applied: the model
stretches images to its own size and normalises them itself, x / 127.5 - 1.
  --input_height N, --input_width N   must equal the model's input size (299)
  --input_mean X, --input_std X       must be 127.5 and 127.5 (label_image.py's defaults 0 and
                                      255 feed [0, 1], which this model was not trained on)
  --output_layer NAME                 must name the model's output layer (final_result unless
                                      retrain --final_tensor_name said otherwise)
  --input_layer NAME                  accepted and ignored: the model has one input
`;

const FLAGS: Record<string, FlagSpec> = Object.fromEntries([
  ...['model', 'graph', 'labels', 'top_k', 'num_top_predictions', 'engine', 'input_height',
    'input_width', 'input_mean', 'input_std', 'input_layer', 'output_layer']
    .map((name) => [name, { type: 'string' } as FlagSpec]),
  ['image', { type: 'string', multiple: true } as FlagSpec],
  ['json', { type: 'boolean' } as FlagSpec],
  ['help', { type: 'boolean', short: 'h' } as FlagSpec],
]);

function usageError(message: string): EdgePotholeError {
  return new EdgePotholeError('EP_USAGE', message);
}

/** Arguments that are folders expand to the image files inside them, in name order. */
async function expandInputs(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (!info?.isDirectory()) {
      files.push(input);
      continue;
    }

    const names = (await readdir(input, { recursive: true })).map(String).sort();
    const before = files.length;
    for (const name of names) {
      const full = path.join(input, name);
      const hidden = name.split(path.sep).some((part) => part.startsWith('.'));
      if (!hidden && (await stat(full)).isFile()) files.push(full);
    }
    // "0 of 0 classified" with exit 0 would read as success.
    if (files.length === before) throw usageError(`folder ${input} contains no files to classify`);
  }

  return files;
}

/** --graph or --model: a model directory, or the model.json inside one. */
async function modelDirOf(values: ParsedFlags['values']): Promise<string> {
  const graph = stringFlag(values, 'graph');
  const model = stringFlag(values, 'model');
  if (graph && model && path.resolve(graph) !== path.resolve(model)) {
    throw usageError(`--graph "${graph}" and --model "${model}" name two models; pass one`);
  }
  const given = graph ?? model;
  if (!given) return DEFAULT_MODEL_DIR;

  const info = await stat(given).catch(() => undefined);
  if (info?.isFile() && path.basename(given) === MODEL_FILES.topology) return path.dirname(given);
  if (info?.isFile()) {
    throw usageError(`--graph "${given}" is a file; edge-pothole reads the model directory ` +
      'written by "edge-pothole retrain" (model.json, weights.bin, labels.txt, metadata.json), ' +
      'not a TensorFlow GraphDef; pass that directory');
  }

  return given;
}

/** label_image.py's input flags, checked against what the model does itself. */
function checkInputFlags(values: ParsedFlags['values'], model: LoadedModel): void {
  const size = model.metadata.input?.size ?? model.metadata.backbone.inputSize;
  for (const name of ['input_height', 'input_width']) {
    const value = numberFlag(values, name, size, { min: 1, integer: true });
    if (value !== size) {
      throw usageError(`--${name} ${value} does not match the model, whose input is ` +
        `${size}x${size}; images of any size are resized to it, so drop --${name}`);
    }
  }

  const mean = numberFlag(values, 'input_mean', MODEL_MEAN);
  const std = numberFlag(values, 'input_std', MODEL_STD, { min: Number.MIN_VALUE });
  if (mean !== MODEL_MEAN || std !== MODEL_STD) {
    throw usageError(`--input_mean ${mean} --input_std ${std} would feed (x - ${mean}) / ${std}, ` +
      `but this model's normalisation is fixed: x / 127.5 - 1 ([-1, 1]), applied by the engine ` +
      '(the backbone was trained on it); drop both flags, or pass 127.5 and 127.5');
  }
}

/** --output_layer must name the model's output layer (retrain's --final_tensor_name). */
async function checkOutputLayer(values: ParsedFlags['values'], model: LoadedModel): Promise<void> {
  const wanted = stringFlag(values, 'output_layer');
  if (wanted === undefined) return;

  const text = await readFile(path.join(model.dir, MODEL_FILES.topology), 'utf8');
  const topology = JSON.parse(text) as
    { modelTopology: { config: { layers: Array<{ config: { name: string } }> } } };
  const layers = topology.modelTopology.config.layers;
  const name = layers[layers.length - 1].config.name;
  if (wanted !== name) {
    throw usageError(`--output_layer "${wanted}" is not the output of ${model.dir}, ` +
      `which is "${name}"; pass --output_layer ${name} or drop it`);
  }
}

/** --labels: refused when the count differs from the outputs, warned when it disagrees. */
async function labelsOf(values: ParsedFlags['values'], model: LoadedModel): Promise<string[]> {
  const file = stringFlag(values, 'labels');
  if (file === undefined) return model.labels;

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`--labels ${file} cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  const labels = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
  if (labels.length !== model.head.classes) {
    throw new EdgePotholeError('EP_MODEL_INVALID', `labels file ${file} has ${labels.length} ` +
      `labels but the model in ${model.dir} has ${model.head.classes} outputs; pass the labels ` +
      'written with the model (its labels.txt, or retrain --output_labels)');
  }
  if (JSON.stringify(labels) !== JSON.stringify(model.metadata.labels)) {
    stageLogger('infer').warn({ labelsFile: file, labels, metadataLabels: model.metadata.labels },
      'labels file disagrees with metadata.json; using the labels file');
  }

  return labels;
}

interface Outcome { file: string; scores?: Float32Array; error?: string }

function render(outcome: Outcome, labels: string[], topK: number, json: boolean): string {
  if (outcome.error) {
    return json ? JSON.stringify({ file: outcome.file, error: outcome.error }) : '';
  }

  const scores = outcome.scores as Float32Array;
  const ranked = labels.map((label, i) => ({ label, score: scores[i] }))
    .sort((a, b) => b.score - a.score);
  if (json) {
    return JSON.stringify({ file: outcome.file, label: ranked[0].label, confidence: ranked[0].score,
      scores: Object.fromEntries(labels.map((label, i) => [label, scores[i]])) });
  }

  return [outcome.file, ...ranked.slice(0, topK)
    .map((r) => `${r.label} (score = ${r.score.toFixed(5)})`)].join('\n');
}

/** One batch: the readable frames through the engine at once, outcomes in input order. */
async function classifyBatch(batch: Array<Prepared<string, Uint8Array>>, engine: InferenceEngine):
  Promise<Outcome[]> {
  const frames = batch.flatMap((p) => (p.value === undefined ? [] : [p.value]));
  const scores = frames.length > 0 ? await engine.scores(frames) : [];

  let next = 0;

  return batch.map(({ item: file, value, error }) => {
    if (value !== undefined) return { file, scores: scores[next++] };
    if (hasCode(error, 'EP_IMAGE_UNREADABLE')) return { file, error: (error as Error).message };
    throw error;
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(USAGE);

    return 0;
  }
  configureLogger({ fd: 2, level: process.env.EDGE_POTHOLE_LOG_LEVEL ?? 'warn' });

  const inputs = [...((values.image as string[] | undefined) ?? []), ...positionals];
  if (inputs.length === 0) throw usageError(`no image given\n\n${USAGE}`);
  const positive = { min: 1, integer: true };
  const topK = numberFlag(values, 'top_k', numberFlag(values, 'num_top_predictions', 5, positive),
    positive);
  const json = Boolean(values.json);

  const model = await loadModelDir(await modelDirOf(values));
  checkInputFlags(values, model);
  await checkOutputLayer(values, model);
  const labels = await labelsOf(values, model);
  const engine = await createEngine({ engine: stringFlag(values, 'engine', 'auto') as EngineChoice,
    layer: model.metadata.backbone.layer, head: model.head });
  try {
    return await classifyAll(await expandInputs(inputs), engine, labels, { topK, json });
  } finally {
    await engine.dispose();
  }
}

async function classifyAll(files: string[], engine: InferenceEngine, labels: string[],
  output: { topK: number; json: boolean }): Promise<number> {
  const startedAt = performance.now();
  const size = engine.backbone.inputSize;
  let failed = 0;

  await runPipeline(files, async (file) => (await decodeFileNow(file, { size })).pixels,
    async (batch) => {
      for (const outcome of await classifyBatch(batch, engine)) {
        if (outcome.error) failed += 1;
        if (outcome.error && !output.json) {
          process.stderr.write(`edge-pothole classify: ${outcome.error}\n`);
        }
        const text = render(outcome, labels, output.topK, output.json);
        if (text) process.stdout.write(`${text}\n`);
      }
    }, ENGINE_BATCH);

  const seconds = (performance.now() - startedAt) / 1000;
  const classified = files.length - failed;
  process.stderr.write(`${classified} of ${files.length} images classified in ` +
    `${seconds.toFixed(2)} s (${(classified / seconds).toFixed(1)} images/s, ` +
    `${engine.engine}/${engine.backend})\n`);

  return failed > 0 ? 2 : 0;
}
