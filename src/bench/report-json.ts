import type { BackboneResult } from './backbone-bench';
import type { BenchReport } from './run-bench';

/**
 * The one-line JSON summary (`bench --json`): flat snake_case figures a script can compare
 * run to run, then the detail of every section. A figure that was not measured is null.
 */

function find(
  results: BackboneResult[],
  match: Partial<BackboneResult>,
): BackboneResult | undefined {
  return results.find((result) =>
    Object.entries(match).every(([key, value]) => result[key as keyof BackboneResult] === value));
}

/** The backbone figures of the report's engine: on one thread and as configured. */
function engineFigures(report: BenchReport) {
  const engine = report.engine;
  if (!engine) return { single: undefined, configured: undefined };

  const onnx = { engine: engine.engine, batch: 1, spinning: engine.spinning,
    graphWeights: engine.graphWeights as BackboneResult['graphWeights'] };
  const one = engine.engine === 'onnxruntime'
    ? { ...onnx, threads: 1 }
    : { engine: engine.engine, workers: 1 };
  const configured = engine.engine === 'onnxruntime'
    ? { ...onnx, threads: engine.threads }
    : { engine: engine.engine, workers: engine.workers };

  return { single: find(report.backbone, one), configured: find(report.backbone, configured) };
}

/** The keys issue 6 asks for, in its order. */
function requiredKeys(report: BenchReport) {
  const { engine, pipeline } = report;
  const figures = engineFigures(report);

  return {
    engine: engine?.engine ?? null,
    backend: engine?.backend ?? null,
    threads: engine?.threads ?? null,
    workers: engine?.workers ?? null,
    single_worker_frames_per_second: figures.single?.framesPerSecond ?? null,
    pipeline_frames_per_second: pipeline?.framesPerSecond ?? null,
    latency_ms_p50: pipeline?.latencyMs.median ?? null,
    latency_ms_p95: pipeline?.latencyMs.p95 ?? null,
    rss_mb_start: pipeline?.rssMbStart ?? null,
    rss_mb_end: pipeline?.rssMbEnd ?? null,
  };
}

/** Stage costs behind the pipeline figure, and the other sections' headline figures. */
function explainingKeys(report: BenchReport) {
  const { pipeline, profile, retrain } = report;
  const wasmSingle = find(report.backbone, { engine: 'tfjs', workers: 1 });
  const wasmPool = report.backbone.find((r) => r.engine === 'tfjs' && r.workers > 1);

  return {
    backbone_frames_per_second: engineFigures(report).configured?.framesPerSecond ?? null,
    tf_tensors_start: pipeline?.tensorsStart ?? null,
    tf_tensors_end: pipeline?.tensorsEnd ?? null,
    ack_latency_ms_p50: pipeline?.ackMs.median ?? null,
    ack_latency_ms_p95: pipeline?.ackMs.p95 ?? null,
    pipeline_inference_ms_p50: pipeline?.inferenceMs.median ?? null,
    decode_ms_p50: profile?.decodeMs.median ?? null,
    inference_ms_p50: profile?.inferenceMs.median ?? null,
    publish_ms_p50: pipeline?.publishAloneMs.median ?? null,
    bottleneck_images_per_second: retrain?.imagesPerSecond ?? null,
    wasm_single_frames_per_second: wasmSingle?.framesPerSecond ?? null,
    wasm_pool_frames_per_second: wasmPool?.framesPerSecond ?? null,
    wasm_pool_workers: wasmPool?.workers ?? null,
  };
}

function cpuPerFrame(report: BenchReport): number | null {
  const pipeline = report.pipeline;
  if (!pipeline?.cpu || pipeline.frames === 0) return null;

  return Math.round((pipeline.cpu.ownCpuMs / pipeline.frames) * 10) / 10;
}

/** Where and under what load the figures were taken. */
function machineKeys(report: BenchReport) {
  return {
    cores: report.machine.cores,
    cpu_model: report.machine.cpuModel,
    load_average_start: report.machine.loadAverage[0],
    load_average_end: report.loadAverageEnd ?? null,
    pipeline_cpu_others_percent: report.pipeline?.cpu?.othersPercent ?? null,
    pipeline_cpu_ms_per_frame: cpuPerFrame(report),
    rss_mb_process_start: report.rssMbProcessStart,
    rss_mb_process_end: report.rssMbProcessEnd ?? null,
    date: report.date,
  };
}

/** The JSON object for `report`: flat figures first, then every section in `detail`. */
export function reportJson(report: BenchReport): Record<string, unknown> {
  const { machine, engine, pipeline, profile, retrain, backbone, weights } = report;

  return {
    ...requiredKeys(report),
    ...explainingKeys(report),
    ...machineKeys(report),
    detail: { machine, engine, pipeline, profile, retrain, backbone, weights },
  };
}
