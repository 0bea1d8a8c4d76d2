import { readFile } from 'node:fs/promises';

import type { InferenceEngine } from '../infer/engine';
import { prepareImage } from '../preprocess/image';
import { normalizeBatch } from '../preprocess/normalize';
import { CpuMeter, type CpuShare } from './machine';
import { summarise, type Timing } from './sample-stats';

/**
 * Each stage of the pipeline alone, one frame at a time, so a pipeline figure can be
 * explained: which stage costs what, and how much the overlap of decode and inference hides.
 */

export interface StageProfile {
  /** Read the file, decode, orient, resize to the network input: ms per frame. */
  decodeMs: Timing;
  /** RGB bytes to the network's [-1, 1] floats (inside every engine call): ms per frame. */
  normaliseMs: Timing;
  /** engine.scores() on one decoded frame: ms per frame. */
  inferenceMs: Timing;
  cpu?: CpuShare;
}

async function timeEach(count: number, step: (i: number) => Promise<unknown>): Promise<Timing> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const startedAt = performance.now();
    await step(i);
    times.push(performance.now() - startedAt);
  }

  return summarise(times);
}

/** Times the stages on `files` (decoded in turn) and their decoded `frames`. */
export async function profileStages(
  engine: InferenceEngine,
  files: string[],
  frames: Uint8Array[],
  count: number,
): Promise<StageProfile> {
  const size = engine.backbone.inputSize;
  const meter = new CpuMeter();

  const decodeMs = await timeEach(count, async (i) => {
    const file = files[i % files.length];
    await prepareImage(await readFile(file), file, { size });
  });
  const frameAt = (i: number) => frames[i % frames.length];
  const normaliseMs = await timeEach(count, async (i) => normalizeBatch([frameAt(i)]));
  const inferenceMs = await timeEach(count, (i) => engine.scores([frameAt(i)]));

  return { decodeMs, normaliseMs, inferenceMs, cpu: meter.read() };
}
