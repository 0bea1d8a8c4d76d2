import os from 'node:os';

import type { LoadedBackbone } from '../infer/backbone';
import type { InferenceEngine } from '../infer/engine';
import { DEFAULT_GRAPH_WEIGHTS, OnnxEngine } from '../infer/onnx/onnx-engine';
import type { GraphWeights } from '../infer/onnx/weight-storage';
import { TfjsEngine } from '../infer/tfjs-engine';
import { TfjsPoolEngine } from '../infer/tfjs-pool/pool-engine';
import { CpuMeter, round, type CpuShare } from './machine';
import { rate, summarise, type Timing } from './sample-stats';

/**
 * The bare network: milliseconds per frame of each engine and setting on the same decoded
 * photos, with nothing else running in the process.
 */

export interface BackboneSetting {
  engine: 'onnxruntime' | 'tfjs';
  /** Intra-op threads (ONNX Runtime); 1 for tfjs. */
  threads: number;
  /** tfjs worker threads; 1 = in the calling thread. */
  workers: number;
  /** Frames per engine call. */
  batch: number;
  /** ONNX Runtime threads busy-wait between operators. */
  spinning?: boolean;
  /** ONNX Runtime graph: weight storage or int8 arithmetic. */
  graphWeights?: GraphWeights;
}

export interface BackboneResult extends BackboneSetting {
  backend: string;
  /** Time per frame: a call's time divided by its frames, ms. */
  msPerFrame: Timing;
  /** Frames over the wall time of all measured calls. */
  framesPerSecond: number;
  /** CPU time of the process per frame, every thread, ms. */
  cpuMsPerFrame: number;
  cpu?: CpuShare;
}

export interface BackboneOptions {
  /** Frames measured per setting (ONNX Runtime); tfjs gets `tfjsFrames`. */
  frames: number;
  tfjsFrames: number;
  /** Include tfjs (slow: seconds per setting plus loading each worker's backbone). */
  tfjs: boolean;
  /** Only the two settings the JSON needs: one thread and the default threads. */
  quick: boolean;
  /** Workers for the tfjs pool; default: the number of cores. */
  workers?: number;
  cacheDir?: string;
  graphWeights?: GraphWeights;
}

/** Times `calls` calls of `batch` frames each, after one unmeasured warm-up call. */
export async function timeEngine(
  engine: InferenceEngine,
  frames: Uint8Array[],
  calls: number,
  batch: number,
): Promise<Pick<BackboneResult, 'msPerFrame' | 'framesPerSecond' | 'cpuMsPerFrame' | 'cpu'>> {
  const batchAt = (call: number) =>
    Array.from({ length: batch }, (_, i) => frames[(call * batch + i) % frames.length]);
  await engine.features(batchAt(0));

  const times: number[] = [];
  const meter = new CpuMeter();
  const startedAt = performance.now();
  for (let call = 1; call <= calls; call++) {
    const callStartedAt = performance.now();
    await engine.features(batchAt(call));
    times.push((performance.now() - callStartedAt) / batch);
  }
  const ms = performance.now() - startedAt;

  const framesPerSecond = rate(calls * batch, ms);
  const cpu = meter.read();
  const cpuMsPerFrame = round((cpu?.ownCpuMs ?? 0) / (calls * batch), 1);

  return { msPerFrame: summarise(times), framesPerSecond, cpuMsPerFrame, cpu };
}

/**
 * The ONNX Runtime settings compared: threads, spinning, batch size, then the other of
 * float32 and int8 arithmetic (`weights` is the graph the engine under test uses).
 */
export function onnxSettings(
  quick: boolean,
  weights: GraphWeights,
  cores = os.availableParallelism(),
): BackboneSetting[] {
  const base = { engine: 'onnxruntime' as const, workers: 1, batch: 1, spinning: false };
  const own = { ...base, graphWeights: weights };
  const settings: BackboneSetting[] = [{ ...own, threads: 1 }, { ...own, threads: cores }];
  if (quick) return settings;

  const otherWeights: GraphWeights = weights === 'int8' ? 'float32' : 'int8';
  const other = { ...base, graphWeights: otherWeights };

  return [
    ...settings,
    { ...own, threads: 1, spinning: true },
    { ...own, threads: cores, spinning: true },
    { ...own, threads: cores, batch: 4 },
    { ...other, threads: 1 },
    { ...other, threads: cores },
  ];
}

async function benchSetting(
  engine: InferenceEngine,
  setting: BackboneSetting,
  frames: Uint8Array[],
  count: number,
): Promise<BackboneResult> {
  try {
    const calls = Math.max(1, Math.ceil(count / setting.batch));
    const timed = await timeEngine(engine, frames, calls, setting.batch);

    return { ...setting, backend: engine.backend, ...timed };
  } finally {
    await engine.dispose();
  }
}

/** ONNX Runtime in every setting of `onnxSettings`, then tfjs in the thread and in workers. */
export async function benchBackbone(
  loaded: LoadedBackbone,
  frames: Uint8Array[],
  options: BackboneOptions,
): Promise<BackboneResult[]> {
  const results: BackboneResult[] = [];
  const weights = options.graphWeights ?? DEFAULT_GRAPH_WEIGHTS;
  for (const setting of onnxSettings(options.quick, weights)) {
    const engine = await OnnxEngine.fromBackbone(loaded, {
      threads: setting.threads, spinning: setting.spinning, cacheDir: options.cacheDir,
      graphWeights: setting.graphWeights,
    });
    results.push(await benchSetting(engine, setting, frames, options.frames));
  }
  if (!options.tfjs) return results;

  const inThread = await TfjsEngine.fromBackbone(loaded);
  const single = { engine: 'tfjs' as const, threads: 1, workers: 1, batch: 1 };
  results.push(await benchSetting(inThread, single, frames, options.tfjsFrames));

  const workers = options.workers ?? os.availableParallelism();
  if (workers > 1) {
    const pool = await TfjsPoolEngine.create({ layer: loaded.identity.layer }, workers);
    const setting = { ...single, workers, batch: workers };
    results.push(await benchSetting(pool, setting, frames, options.tfjsFrames));
  }

  return results;
}
