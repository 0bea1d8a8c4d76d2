import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { InferenceEngine } from '../infer/engine';
import { BottleneckCache } from '../retrain/bottleneck-cache';
import { createBottlenecks } from '../retrain/bottlenecks';
import { scanDataset } from '../retrain/dataset';
import { CpuMeter, round, type CpuShare } from './machine';
import { spread } from './photos';
import { rate } from './sample-stats';

/**
 * `retrain`'s first stage as it runs there: createBottlenecks over labelled photos with an
 * empty cache, so every image is read, hashed, decoded, resized, inferred and written.
 */

export interface RetrainResult {
  datasetDir: string;
  images: number;
  computed: number;
  skipped: number;
  seconds: number;
  imagesPerSecond: number;
  /** CPU seconds of this process per image, all threads: barely moved by others' load. */
  cpuSecondsPerImage: number;
  cpu?: CpuShare;
}

/** Bottlenecks for `count` photos spread over the data set, into a temporary cache. */
export async function benchBottlenecks(
  engine: InferenceEngine,
  datasetDir: string,
  count: number,
): Promise<RetrainResult> {
  const dataset = await scanDataset(datasetDir, {
    validationPercentage: 10,
    testingPercentage: 10,
    allowSmallClasses: true,
  });
  const images = spread(dataset.images, count);
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'edge-pothole-bench-bottlenecks-'));

  try {
    const { backbone } = engine;
    const cache = new BottleneckCache(cacheDir, backbone.fingerprint, backbone.featureLength);
    const meter = new CpuMeter();
    const result = await createBottlenecks(images, engine, cache);

    return {
      datasetDir,
      images: images.length,
      computed: result.computed,
      skipped: result.skipped.length,
      seconds: round(result.seconds, 2),
      imagesPerSecond: rate(result.computed, result.seconds * 1000),
      cpuSecondsPerImage: round(result.cpuSeconds / Math.max(1, result.computed), 3),
      cpu: meter.read(),
    };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}
