import type { EngineChoice } from '../infer/engine';
import type { GraphWeights } from '../infer/onnx/weight-storage';

/** Everything a bench run can be told; the CLI fills it from flags (cli/bench.ts). */
export interface BenchOptions {
  /** Engine for the pipeline and retrain sections; default `auto`, as the daemon. */
  engine: EngineChoice;
  /** ONNX Runtime intra-op threads; default: the number of cores. */
  threads?: number;
  /** tfjs worker threads; default: the number of cores. */
  workers?: number;
  /** ONNX Runtime spinning; default the engine's (off). */
  spinning?: boolean;
  graphWeights?: GraphWeights;
  /** Model whose head the pipeline applies; default the shipped models/pothole. */
  modelDir: string;
  /** Folder the pipeline replays in a loop; default samples/. */
  photosDir: string;
  /** Labelled folder (one sub-folder per class) for the retrain and weights sections. */
  datasetDir: string;
  /** Pipeline frames measured after the warm-up. */
  frames: number;
  warmupFrames: number;
  /** Frames between RSS samples in the pipeline. */
  sampleEvery: number;
  /** Frames per backbone setting (ONNX Runtime) and per tfjs setting. */
  backboneFrames: number;
  tfjsFrames: number;
  /** Frames per stage in the stage profile. */
  profileFrames: number;
  /** Images for the bottleneck section; 0 skips it. */
  bottleneckImages: number;
  /** Compare tfjs in the thread and in workers (slow to load). */
  tfjs: boolean;
  /** Only what the JSON needs, a few frames each: for tests. */
  quick: boolean;
  /** Pipeline only, `frames` long, RSS every 1000 frames: shows memory is flat. */
  soak: boolean;
  /** Compare float32, uint8 and float16 graph weights on the model's test split. */
  weights: boolean;
}

/** About a minute on two cores: enough frames for a stable median and p95. */
export const DEFAULT_SIZES = {
  frames: 300,
  warmupFrames: 10,
  backboneFrames: 24,
  tfjsFrames: 8,
  profileFrames: 24,
  bottleneckImages: 96,
} as const;

/** A few seconds of measuring (the engines still take seconds to load). */
export const QUICK_SIZES = {
  frames: 8,
  warmupFrames: 2,
  backboneFrames: 3,
  tfjsFrames: 2,
  profileFrames: 3,
  bottleneckImages: 8,
} as const;

/** Memory is sampled this often in a soak. */
export const SOAK_SAMPLE_EVERY = 1000;
