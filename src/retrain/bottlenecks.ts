import { readFile } from 'node:fs/promises';

import type { InferenceEngine } from '../infer/engine';
import { prepareImage } from '../preprocess/image';
import { describeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import { Progress } from '../util/progress';
import { BottleneckCache } from './bottleneck-cache';
import type { DatasetImage } from './dataset';

export interface Bottleneck {
  image: DatasetImage;
  vector: Float32Array;
}

export interface BottleneckResult {
  bottlenecks: Bottleneck[];
  skipped: Array<{ file: string; reason: string }>;
  fromCache: number;
  computed: number;
  seconds: number;
}

interface Pending {
  image: DatasetImage;
  hash: string;
  pixels: Uint8Array;
}

/** Frames per engine call: large enough to amortise a call, small enough to stay responsive. */
const BATCH_SIZE = 8;

async function loadOrDecode(image: DatasetImage, cache: BottleneckCache):
  Promise<{ cached: Bottleneck } | { pending: Pending }> {
  const data = await readFile(image.file);
  const hash = BottleneckCache.contentHash(data);
  const vector = await cache.get(hash);
  if (vector) return { cached: { image, vector } };

  const { pixels } = await prepareImage(data, image.file);

  return { pending: { image, hash, pixels } };
}

/**
 * Computes (or reads from the cache) one bottleneck per image. Decoding of the next batch
 * overlaps inference of the current one. An unreadable image is skipped with one warning.
 */
export async function createBottlenecks(
  images: DatasetImage[],
  engine: InferenceEngine,
  cache: BottleneckCache,
): Promise<BottleneckResult> {
  const log = stageLogger('retrain');
  const startedAt = Date.now();
  const progress = new Progress('bottlenecks', images.length);
  const result: BottleneckResult = { bottlenecks: [], skipped: [], fromCache: 0, computed: 0, seconds: 0 };

  const decodeBatch = (start: number) => Promise.all(
    images.slice(start, start + BATCH_SIZE).map((image) => loadOrDecode(image, cache).catch((err) => {
      log.warn({ file: image.file, err: describeError(err) }, 'image skipped');
      result.skipped.push({ file: image.file, reason: describeError(err) });

      return undefined;
    })),
  );

  let next = decodeBatch(0);
  for (let start = 0; start < images.length; start += BATCH_SIZE) {
    const batch = await next;
    if (start + BATCH_SIZE < images.length) next = decodeBatch(start + BATCH_SIZE);

    const pending: Pending[] = [];
    for (const item of batch) {
      if (item && 'cached' in item) result.bottlenecks.push(item.cached);
      if (item && 'pending' in item) pending.push(item.pending);
    }
    result.fromCache += batch.filter((item) => item && 'cached' in item).length;

    if (pending.length > 0) {
      const vectors = await engine.features(pending.map((p) => p.pixels));
      for (const [i, p] of pending.entries()) {
        await cache.put(p.hash, vectors[i]);
        result.bottlenecks.push({ image: p.image, vector: vectors[i] });
      }
      result.computed += pending.length;
    }
    progress.tick(batch.length);
  }
  progress.finish();
  result.seconds = (Date.now() - startedAt) / 1000;

  return result;
}
