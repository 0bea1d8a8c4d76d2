import os from 'node:os';

import { loadBackbone } from '../infer/backbone';
import { createEngine } from '../infer/create-engine';
import type { InferenceEngine } from '../infer/engine';
import { loadModelDir, type LoadedModel } from '../infer/model-dir';
import { DEFAULT_GRAPH_WEIGHTS } from '../infer/onnx/onnx-engine';
import { benchBackbone, type BackboneResult } from './backbone-bench';
import { describeMachine, round, rssMb, type MachineInfo } from './machine';
import type { BenchOptions } from './options';
import { decodePhotos, listPhotos, spread } from './photos';
import { benchPipeline, type PipelineResult } from './pipeline-bench';
import { benchBottlenecks, type RetrainResult } from './retrain-bench';
import { profileStages, type StageProfile } from './stage-profile';
import { benchWeights, type WeightsReport } from './weights-bench';

/** The engine the pipeline and retrain sections ran on, as the daemon would build it. */
export interface EngineSummary {
  engine: 'onnxruntime' | 'tfjs';
  backend: string;
  threads: number;
  workers: number;
  /** ONNX Runtime only. */
  spinning?: boolean;
  graphWeights?: string;
}

export interface BenchReport {
  /** ISO 8601 start time. */
  date: string;
  machine: MachineInfo;
  engine?: EngineSummary;
  rssMbProcessStart: number;
  pipeline?: PipelineResult;
  profile?: StageProfile;
  retrain?: RetrainResult;
  backbone: BackboneResult[];
  weights?: WeightsReport;
  rssMbProcessEnd?: number;
  loadAverageEnd?: number;
}

export type Section = 'machine' | 'pipeline' | 'profile' | 'retrain' | 'backbone' | 'weights';

/** Called as each section finishes, so a long run shows its figures as it goes. */
export type SectionListener = (section: Section, report: BenchReport) => void;

/** Photos decoded once for the stage profile and the backbone section. */
const DECODED_PHOTOS = 24;

function summarise(engine: InferenceEngine, options: BenchOptions): EngineSummary {
  const { backend, threads, workers } = engine;
  const summary: EngineSummary = { engine: engine.engine, backend, threads, workers };
  if (engine.engine === 'onnxruntime') {
    summary.spinning = options.spinning ?? false;
    summary.graphWeights = options.graphWeights ?? DEFAULT_GRAPH_WEIGHTS;
  }

  return summary;
}

/** Pipeline, stage profile and bottlenecks on the engine the daemon would build. */
async function engineSections(
  report: BenchReport, model: LoadedModel, options: BenchOptions, onSection: SectionListener,
): Promise<void> {
  const engine = await createEngine({
    engine: options.engine, threads: options.threads, workers: options.workers,
    spinning: options.spinning, graphWeights: options.graphWeights,
    layer: model.metadata.backbone.layer, head: model.head,
  });
  try {
    report.engine = summarise(engine, options);
    const { frames, warmupFrames, sampleEvery, photosDir } = options;
    const sizes = { photosDir, frames, warmupFrames, sampleEvery };
    report.pipeline = await benchPipeline(engine, model, sizes);
    onSection('pipeline', report);
    if (options.soak) return;

    const files = spread(await listPhotos(photosDir), DECODED_PHOTOS);
    const decoded = await decodePhotos(files, engine.backbone.inputSize);
    report.profile = await profileStages(engine, files, decoded, options.profileFrames);
    onSection('profile', report);
    if (options.bottleneckImages > 0) {
      report.retrain = await benchBottlenecks(engine, options.datasetDir, options.bottleneckImages);
      onSection('retrain', report);
    }
  } finally {
    await engine.dispose();
  }
}

/** Every engine setting on one copy of the backbone, then the weight storages. */
async function backboneSections(
  report: BenchReport, model: LoadedModel, options: BenchOptions, onSection: SectionListener,
): Promise<void> {
  const loaded = await loadBackbone(model.metadata.backbone.layer);
  try {
    const files = spread(await listPhotos(options.photosDir), DECODED_PHOTOS);
    const frames = await decodePhotos(files, loaded.identity.inputSize);
    report.backbone = await benchBackbone(loaded, frames, {
      frames: options.backboneFrames, tfjsFrames: options.tfjsFrames, quick: options.quick,
      tfjs: options.tfjs || report.engine?.engine === 'tfjs', workers: options.workers,
      graphWeights: options.graphWeights,
    });
    onSection('backbone', report);

    if (options.weights) {
      report.weights = await benchWeights(loaded, model, options.datasetDir);
      onSection('weights', report);
    }
  } finally {
    loaded.fullModel.dispose();
  }
}

/** Runs every section `options` asks for, in an order that keeps memory figures clean. */
export async function runBench(
  options: BenchOptions,
  onSection: SectionListener = () => undefined,
): Promise<BenchReport> {
  const report: BenchReport = {
    date: new Date().toISOString(), machine: describeMachine(), rssMbProcessStart: rssMb(),
    backbone: [],
  };
  onSection('machine', report);

  const model = await loadModelDir(options.modelDir);
  await engineSections(report, model, options, onSection);
  if (!options.soak) await backboneSections(report, model, options, onSection);

  report.rssMbProcessEnd = rssMb();
  report.loadAverageEnd = round(os.loadavg()[0], 2);

  return report;
}
