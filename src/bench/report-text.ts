import type { BackboneResult } from './backbone-bench';
import { idleCeiling, round, type CpuShare } from './machine';
import type { BenchReport, Section } from './run-bench';
import type { Timing } from './sample-stats';

/** The human table of `bench`, one block per section, printed as each section finishes. */

/** Pads every column to its widest cell. */
export function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));

  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const timing = (t: Timing) => `p50 ${ms(t.median).padStart(9)}   p95 ${ms(t.p95).padStart(9)}`;
const line = (label: string, value: string) => `  ${label.padEnd(20)}${value}`;

export function cpuText(cpu: CpuShare | undefined): string {
  if (!cpu) return 'n/a';

  const { othersPercent, ownPercent, loadAverage } = cpu;

  return `others ${othersPercent}%, bench ${ownPercent}% (of all cores), load ${loadAverage}`;
}

/** CPU ms per item and what idle cores would reach at that cost. */
function cpuPerItem(cpu: CpuShare | undefined, items: number, cores: number, unit: string): string {
  if (!cpu || items === 0) return 'n/a';

  const perItem = cpu.ownCpuMs / items;

  return `${round(perItem, 1)} ms per ${unit}: at most ${idleCeiling(perItem, cores)} ${unit}s/s ` +
    `on ${cores} idle cores`;
}

function machineBlock(report: BenchReport): string[] {
  const m = report.machine;

  return [
    `edge-pothole bench, ${report.date}`,
    `machine   ${m.cores} cores, ${m.cpuModel}, ${(m.memoryMb / 1024).toFixed(1)} GB, ` +
      `node ${m.node}, ${m.platform}`,
    `load      ${m.loadAverage.join(' ')} (1, 5, 15 min) at start. The machine may be shared:`,
    '          each section says how much CPU other processes took meanwhile.',
    '',
  ];
}

function pipelineBlock(report: BenchReport): string[] {
  const p = report.pipeline;
  const e = report.engine;
  if (!p || !e) return [];

  const onnx = e.engine === 'onnxruntime'
    ? `, spinning ${e.spinning ? 'on' : 'off'}, weights ${e.graphWeights}` : '';
  const tensors = p.tensorsStart === undefined
    ? '' : `; tfjs tensors ${p.tensorsStart} -> ${p.tensorsEnd}`;
  const lines = [
    `pipeline  ${e.engine}/${e.backend}, ${e.threads} thread(s), ${e.workers} worker(s)${onnx}`,
    '          read + decode + resize + infer + decide + publish (QoS 1, loopback broker),',
    `          every frame published, ${p.frames} frames after warm-up`,
    line('frames/s', p.framesPerSecond.toFixed(2)),
    line('capture -> publish', timing(p.latencyMs)),
    line('capture -> PUBACK', timing(p.ackMs)),
    line('inference in loop', timing(p.inferenceMs)),
    line('publish alone', timing(p.publishAloneMs)),
    line('RSS', `${p.rssMbStart} -> ${p.rssMbEnd} MB${tensors}`),
    line('CPU', cpuText(p.cpu)),
    line('CPU time', cpuPerItem(p.cpu, p.frames, report.machine.cores, 'frame')),
  ];
  if (p.memory.length > 1) {
    const rows = p.memory.map((sample) => [String(sample.frames), String(sample.rssMb)]);
    lines.push('  memory while running:');
    lines.push(...columns([['frames', 'RSS MB'], ...rows]).map((row) => `    ${row}`));
  }

  return [...lines, ''];
}

function profileBlock(report: BenchReport): string[] {
  const s = report.profile;
  if (!s) return [];

  return [
    'stages alone, one frame at a time',
    line('read+decode+resize', timing(s.decodeMs)),
    line('normalise', timing(s.normaliseMs)),
    line('inference', timing(s.inferenceMs)),
    line('CPU', cpuText(s.cpu)),
    '',
  ];
}

function retrainBlock(report: BenchReport): string[] {
  const r = report.retrain;
  if (!r) return [];

  return [
    `retrain bottlenecks, empty cache, ${r.images} images from ${r.datasetDir}`,
    line('images/s', `${r.imagesPerSecond.toFixed(2)} ` +
      `(${r.computed} computed, ${r.skipped} skipped, ${r.seconds} s)`),
    line('CPU', cpuText(r.cpu)),
    line('CPU time', cpuPerItem(r.cpu, r.computed, report.machine.cores, 'image')),
    '',
  ];
}

function backboneRow(r: BackboneResult, cores: number): string[] {
  const cpuMs = r.cpuMsPerFrame;

  return [r.engine, r.backend, r.graphWeights ?? '-', String(r.threads), String(r.workers),
    String(r.batch),
    r.spinning === undefined ? '-' : r.spinning ? 'on' : 'off', ms(r.msPerFrame.median),
    ms(r.msPerFrame.p95), r.framesPerSecond.toFixed(2), ms(cpuMs),
    String(idleCeiling(cpuMs, Math.min(cores, r.threads * r.workers))),
    `${r.cpu?.othersPercent ?? '?'}%`, String(r.cpu?.loadAverage ?? '?')];
}

function backboneBlock(report: BenchReport): string[] {
  const header = ['engine', 'backend', 'graph', 'threads', 'workers', 'batch', 'spin', 'median',
    'p95', 'frames/s', 'cpu/frame', 'idle f/s', 'others', 'load'];
  const rows = report.backbone.map((r) => backboneRow(r, report.machine.cores));

  return [
    'backbone alone, ms per frame (idle f/s: the CPU time per frame spread over the threads',
    'it uses, on idle cores: what this setting reaches when nobody else runs)',
    ...columns([header, ...rows]).map((row) => `  ${row}`),
    '',
  ];
}

function weightsBlock(report: BenchReport): string[] {
  const w = report.weights;
  if (!w) return [];

  const header = ['weights', 'file MB', 'open', 'check diff', 'median', 'accuracy', 'max dp',
    'flips'];
  const rows = w.results.map((r) => [r.weights, String(r.fileMb), `${r.openMs} ms`,
    r.checkMaxAbsDiff.toExponential(1), ms(r.msPerFrame.median),
    `${(r.accuracy * 100).toFixed(2)}%`, r.maxScoreDiff.toExponential(1), String(r.flips)]);

  return [
    `graph weights, test split of ${w.datasetDir} (${w.testImages} images), shipped head`,
    ...columns([header, ...rows]).map((row) => `  ${row}`),
    '',
  ];
}

const BLOCKS: Record<Section, (report: BenchReport) => string[]> = {
  machine: machineBlock,
  pipeline: pipelineBlock,
  profile: profileBlock,
  retrain: retrainBlock,
  backbone: backboneBlock,
  weights: weightsBlock,
};

/** The lines of one finished section. */
export function sectionText(section: Section, report: BenchReport): string[] {
  return BLOCKS[section](report);
}
