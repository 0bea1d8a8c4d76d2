/**
 * The loop shared by bottleneck creation, distorted training batches and classify: items are
 * prepared (read and decoded: sharp works in libuv threads) a batch ahead of the engine, so
 * decoding batch k + 1 overlaps inference of batch k (ONNX Runtime computes in its own
 * threads). One engine call per batch amortises the call and lets the engine use its cores.
 */

import { readFileSync } from 'node:fs';

import {
  prepareImage,
  prepareImageFile,
  type ModelInput,
  type PrepareOptions,
} from '../preprocess/image';

/** Frames per engine call; measured in docs/retrain.md (8 and 16 are equally fast). */
export const ENGINE_BATCH = 8;

export interface Prepared<T, P> {
  item: T;
  /** Present when `prepare` succeeded. */
  value?: P;
  /** What `prepare` threw, when it failed: the batch goes on without this item. */
  error?: unknown;
}

/**
 * prepareImageFile, but with the file read synchronously so that sharp is called before this
 * returns. ONNX Runtime's Node binding computes a batch on the main thread: after an await,
 * the decode would wait for the engine call to finish instead of running beside it in libuv's
 * threads. A file that cannot be read goes through prepareImageFile, whose error names it.
 */
export function decodeFileNow(file: string, options: PrepareOptions): Promise<ModelInput> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return prepareImageFile(file, options);
  }

  return prepareImage(data, file, options);
}

/**
 * Calls `consume` once per batch of `batchSize` items, in order, with each item prepared (or
 * its error). The next batch is being prepared while `consume` runs.
 */
export async function runPipeline<T, P>(
  items: readonly T[],
  prepare: (item: T) => Promise<P>,
  consume: (batch: Array<Prepared<T, P>>) => Promise<void>,
  batchSize = ENGINE_BATCH,
): Promise<void> {
  // new Promise() runs prepare at once (not in a later tick) and turns a synchronous throw
  // into a rejection, so one bad item cannot stop the batch.
  const prepareBatch = (start: number): Promise<Array<Prepared<T, P>>> => Promise.all(
    items.slice(start, start + batchSize).map((item) => new Promise<P>((resolve) => {
      resolve(prepare(item));
    }).then(
      (value) => ({ item, value }),
      (error: unknown) => ({ item, error }),
    )),
  );

  let next = items.length > 0 ? prepareBatch(0) : undefined;
  for (let start = 0; next; start += batchSize) {
    const batch = await next;
    next = start + batchSize < items.length ? prepareBatch(start + batchSize) : undefined;

    await consume(batch);
  }
}
