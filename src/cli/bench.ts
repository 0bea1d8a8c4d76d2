import os from 'node:os';

import type { EngineChoice } from '../infer/engine';
import { checkGraphWeights } from '../infer/onnx/weight-storage';
import {
  DEFAULT_SIZES, QUICK_SIZES, SOAK_SAMPLE_EVERY, type BenchOptions,
} from '../bench/options';
import { defaultDatasetDir, SAMPLES_DIR, SHIPPED_MODEL_DIR } from '../bench/photos';
import { reportJson } from '../bench/report-json';
import { sectionText } from '../bench/report-text';
import { runBench } from '../bench/run-bench';
import { EdgePotholeError } from '../util/errors';
import { configureLogger } from '../util/logger';
import { numberFlag, parseFlags, stringFlag, type FlagSpec, type ParsedFlags } from './args';

const CORES = os.availableParallelism();
const IMAGES = DEFAULT_SIZES.bottleneckImages;

const USAGE = `usage: edge-pothole bench [options]

Measures, on real road photos, the daemon pipeline end to end (decode, resize, inference,
decide, publish to a loopback MQTT broker), each stage alone, retrain's bottleneck creation,
the backbone on every engine and thread setting, and memory. Prints a table as it goes; a
default run takes one to two minutes on two cores. The machine, its load, and the CPU other
processes took during each section are printed with the figures.

  --json                one JSON object on the last line (the table stays above it)
  --quick               a few frames per section, no tfjs comparison (for tests)
  --frames N            pipeline frames after warm-up (default ${DEFAULT_SIZES.frames})
  --soak N              pipeline only, N frames, RSS every ${SOAK_SAMPLE_EVERY} frames
                        (e.g. 10000)
  --engine NAME         auto, onnxruntime or tfjs for the pipeline (default auto, as the daemon)
  --threads N           ONNX Runtime threads (default: the number of cores, here ${CORES})
  --workers N           tfjs-wasm worker threads (default: the number of cores)
  --spinning            ONNX Runtime threads busy-wait between operators (default off)
  --graph_weights W     ONNX graph weights: float32, uint8 or float16 (default float32)
  --skip_tfjs           leave out tfjs in the thread and in workers (saves ~20 s)
  --weights             also compare float32/uint8/float16 graph weights on the model's
                        test split of --dataset (accuracy and speed; about a minute)
  --images N            photos for the bottleneck section (0 skips it; default ${IMAGES})
  --model DIR           model whose head is applied (default: the shipped models/pothole)
  --photos DIR          folder the pipeline replays in a loop (default: samples/)
  --dataset DIR         labelled folder, one sub-folder per class, for bottlenecks and
                        --weights (default: ../shared/data/roads when present, else samples/)
`;

const FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean' },
  quick: { type: 'boolean' },
  frames: { type: 'string' },
  soak: { type: 'string' },
  engine: { type: 'string' },
  threads: { type: 'string' },
  workers: { type: 'string' },
  spinning: { type: 'boolean' },
  graph_weights: { type: 'string' },
  skip_tfjs: { type: 'boolean' },
  weights: { type: 'boolean' },
  images: { type: 'string' },
  model: { type: 'string' },
  photos: { type: 'string' },
  dataset: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const ENGINES: EngineChoice[] = ['auto', 'onnxruntime', 'tfjs'];

function engineFlag(values: ParsedFlags['values']): EngineChoice {
  const engine = stringFlag(values, 'engine', 'auto') as EngineChoice;
  if (!ENGINES.includes(engine)) {
    throw new EdgePotholeError('EP_USAGE',
      `--engine must be one of ${ENGINES.join(', ')}, got "${engine}"`);
  }

  return engine;
}

/** The flags as BenchOptions; every bad value is a usage error naming the flag. */
export function benchOptions(values: ParsedFlags['values']): BenchOptions {
  const quick = Boolean(values.quick);
  const sizes = quick ? QUICK_SIZES : DEFAULT_SIZES;
  const soak = numberFlag(values, 'soak', 0, { min: 0, integer: true });
  const count = (name: string, fallback: number, min = 1) =>
    numberFlag(values, name, fallback, { min, integer: true });
  const optional = (name: string) => (values[name] === undefined ? undefined : count(name, 1));
  const weights = stringFlag(values, 'graph_weights');
  const frames = count('frames', sizes.frames);

  return {
    engine: engineFlag(values), threads: optional('threads'), workers: optional('workers'),
    spinning: values.spinning ? true : undefined,
    graphWeights: weights === undefined ? undefined : checkGraphWeights(weights),
    modelDir: stringFlag(values, 'model', SHIPPED_MODEL_DIR) as string,
    photosDir: stringFlag(values, 'photos', SAMPLES_DIR) as string,
    datasetDir: stringFlag(values, 'dataset', defaultDatasetDir()) as string,
    frames: soak > 0 ? soak : frames,
    warmupFrames: sizes.warmupFrames,
    sampleEvery: soak > 0 ? SOAK_SAMPLE_EVERY : Math.max(1, Math.ceil(frames / 5)),
    backboneFrames: sizes.backboneFrames, tfjsFrames: sizes.tfjsFrames,
    profileFrames: sizes.profileFrames,
    bottleneckImages: count('images', sizes.bottleneckImages, 0),
    tfjs: !quick && !values.skip_tfjs, quick, soak: soak > 0, weights: Boolean(values.weights),
  };
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(USAGE);

    return 0;
  }
  if (positionals.length > 0) {
    throw new EdgePotholeError('EP_USAGE', `unexpected argument "${positionals[0]}"\n\n${USAGE}`);
  }
  configureLogger({ fd: 2, level: process.env.EDGE_POTHOLE_LOG_LEVEL ?? 'warn' });

  const options = benchOptions(values);
  const report = await runBench(options, (section, partial) => {
    for (const text of sectionText(section, partial)) process.stdout.write(`${text}\n`);
  });
  if (values.json) process.stdout.write(`${JSON.stringify(reportJson(report))}\n`);

  return 0;
}
