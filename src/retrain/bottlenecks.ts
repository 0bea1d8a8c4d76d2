import { readFileSync } from 'node:fs';

import type { InferenceEngine } from '../infer/engine';
import { prepareImage } from '../preprocess/image';
import { describeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import { Progress } from '../util/progress';
import { BottleneckCache } from './bottleneck-cache';
import type { DatasetImage } from './dataset';
import { ENGINE_BATCH, runPipeline, type Prepared } from './frame-pipeline';

export interface Bottleneck {
  image: DatasetImage;
  vector: Float32Array;
}

export interface BottleneckResult {
  bottlenecks: Bottleneck[];
  /** Files that could not be read or decoded: each was logged once. */
  skipped: Array<{ file: string; reason: string }>;
  fromCache: number;
  computed: number;
  /** Wall-clock seconds of the whole stage. */
  seconds: number;
  /** CPU seconds of this process over the stage (all threads): a figure load barely moves. */
  cpuSeconds: number;
}

export interface BottleneckOptions {
  /** Frames per engine call; default ENGINE_BATCH. */
  batchSize?: number;
}

type Loaded = { cached: Float32Array } | { hash: string; pixels: Uint8Array };

/**
 * The cached bottleneck, or the decoded frame to compute it from. Synchronous up to the
 * decode, on purpose: ONNX Runtime's Node binding runs a batch on the main thread, so with an
 * await before sharp is called the next batch would not start decoding until the engine
 * returned. This way its decode runs in libuv's threads while the engine computes. The reads
 * cost well under a millisecond per photo on a local disk.
 */
function loadOrDecode(image: DatasetImage, cache: BottleneckCache, size: number):
  Promise<Loaded> {
  const data = readFileSync(image.file);
  const hash = BottleneckCache.contentHash(data);
  const cached = cache.getSync(hash);
  if (cached) return Promise.resolve({ cached });

  return prepareImage(data, image.file, { size }).then(({ pixels }) => ({ hash, pixels }));
}

/**
 * Computes (or reads from the cache) one bottleneck per image, in batches, decoding the next
 * batch while the engine works on this one. An unreadable image is skipped with one warning.
 */
export async function createBottlenecks(
  images: DatasetImage[],
  engine: InferenceEngine,
  cache: BottleneckCache,
  options: BottleneckOptions = {},
): Promise<BottleneckResult> {
  const startedAt = Date.now();
  const cpuBefore = process.cpuUsage();
  const progress = new Progress('bottlenecks', images.length);
  const result: BottleneckResult = {
    bottlenecks: [], skipped: [], fromCache: 0, computed: 0, seconds: 0, cpuSeconds: 0,
  };
  const writes = cacheWriter(cache);

  const size = engine.backbone.inputSize;
  await runPipeline(images, (image) => loadOrDecode(image, cache, size), async (batch) => {
    await consumeBatch(batch, engine, writes.write, result);
    progress.tick(batch.length);
  }, options.batchSize ?? ENGINE_BATCH);
  writes.report();

  // In input order whatever came from the cache: the seeded batches pick by index, so a run
  // must not depend on which bottlenecks happened to be cached.
  const order = new Map(images.map((image, i) => [image, i]));
  result.bottlenecks.sort((a, b) => (order.get(a.image) ?? 0) - (order.get(b.image) ?? 0));

  progress.finish();
  const cpu = process.cpuUsage(cpuBefore);
  result.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  result.seconds = (Date.now() - startedAt) / 1000;

  return result;
}

/**
 * Writes each new bottleneck as soon as it is computed, so an interrupted run keeps every
 * finished batch. A write that fails (disk full, read-only cache) costs only a recomputation
 * next time: counted, and logged once at the end.
 */
function cacheWriter(cache: BottleneckCache) {
  const failed: unknown[] = [];

  return {
    write: (hash: string, vector: Float32Array): void => {
      try {
        cache.putSync(hash, vector);
      } catch (err) {
        failed.push(err);
      }
    },
    report: (): void => {
      if (failed.length > 0) {
        stageLogger('retrain').warn({ failed: failed.length, err: describeError(failed[0]) },
          'bottleneck cache not written');
      }
    },
  };
}

/** Sorts one batch into cached, to compute and skipped; computes and writes the new ones. */
async function consumeBatch(
  batch: Array<Prepared<DatasetImage, Loaded>>,
  engine: InferenceEngine,
  write: (hash: string, vector: Float32Array) => void,
  result: BottleneckResult,
): Promise<void> {
  const pending: Array<{ image: DatasetImage; hash: string; pixels: Uint8Array }> = [];
  for (const { item: image, value, error } of batch) {
    if (!value) {
      const reason = describeError(error);
      stageLogger('retrain').warn({ file: image.file, err: reason }, 'image skipped');
      result.skipped.push({ file: image.file, reason });
    } else if ('cached' in value) {
      result.bottlenecks.push({ image, vector: value.cached });
      result.fromCache += 1;
    } else {
      pending.push({ image, ...value });
    }
  }
  if (pending.length === 0) return;

  const vectors = await engine.features(pending.map((p) => p.pixels));
  result.computed += pending.length;

  pending.forEach((p, i) => {
    result.bottlenecks.push({ image: p.image, vector: vectors[i] });
    write(p.hash, vectors[i]);
  });
}
