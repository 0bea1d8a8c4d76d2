import path from 'node:path';
import { Worker } from 'node:worker_threads';

import { describeError, EdgePotholeError } from '../../util/errors';
import type { BackboneIdentity } from '../backbone';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol';

/** Compiled next to this file; worker threads load JavaScript, not TypeScript. */
const WORKER_FILE = path.join(__dirname, 'worker.js');

/**
 * How long one worker may take to load the backbone (about 3 s on an idle core); generous
 * because all workers load at once on a machine that may be busy.
 */
export const DEFAULT_START_TIMEOUT_MS = 120_000;

interface Job {
  request: ToWorker;
  transfer: ArrayBuffer[];
  /** Only this worker may take the job (a question about the worker itself). */
  slot?: number;
  resolve(message: FromWorker): void;
  reject(err: Error): void;
}

interface Slot {
  index: number;
  worker: Worker;
  job?: Job;
}

type Ready = Extract<FromWorker, { kind: 'ready' }>;

interface StartedWorker {
  worker: Worker;
  ready: Ready;
}

/**
 * Splits `items` into at most `parts` contiguous runs whose lengths differ by at most one,
 * none empty: 5 frames over 2 workers are 3 + 2.
 */
export function splitEvenly<T>(items: T[], parts: number): T[][] {
  const count = Math.min(parts, items.length);
  const runs: T[][] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const length = Math.floor(items.length / count) + (i < items.length % count ? 1 : 0);
    runs.push(items.slice(start, start + length));
    start += length;
  }

  return runs;
}

/** Starts one worker and resolves once it has loaded the backbone. */
function startWorker(setup: WorkerSetup, timeoutMs: number): Promise<StartedWorker> {
  const worker = new Worker(WORKER_FILE, { workerData: setup });

  return new Promise((resolve, reject) => {
    // Only these listeners are removed: Worker keeps internal ones (they start and stop its
    // message port), and removeAllListeners() would silence the worker for good.
    const onMessage = (message: FromWorker) => {
      if (message.kind === 'ready') settle(() => resolve({ worker, ready: message }));
      else if (message.kind === 'failed') fail(new Error(message.message));
      else fail(new Error(`sent "${message.kind}" before "ready"`));
    };
    const onExit = (code: number) => fail(new Error(`exited with code ${code} while starting`));
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', fail).off('exit', onExit);
      outcome();
    };
    const fail = (err: Error) => settle(() => {
      void worker.terminate();
      reject(err);
    });
    const timeout = () => fail(new Error(`no backbone loaded within ${timeoutMs} ms`));
    const timer = setTimeout(timeout, timeoutMs);

    worker.on('message', onMessage).on('error', fail).on('exit', onExit);
  });
}

/**
 * Worker threads that each hold the tfjs backbone and compute features for the frames they
 * are given. Jobs wait in one queue and go to whichever worker is idle, so a batch split in
 * parts and several callers at once both keep every worker busy.
 */
export class WorkerPool {
  private readonly queue: Job[] = [];
  private nextJobId = 1;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly slots: Slot[],
    readonly identity: BackboneIdentity,
    readonly backend: string,
  ) {
    for (const slot of slots) this.watch(slot);
  }

  /**
   * Starts `count` workers in parallel. Throws EP_ENGINE_UNAVAILABLE naming the first worker
   * that could not load the backbone and why; the others are stopped again.
   */
  static async start(
    count: number,
    setup: WorkerSetup,
    timeoutMs = DEFAULT_START_TIMEOUT_MS,
  ): Promise<WorkerPool> {
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => startWorker(setup, timeoutMs)),
    );

    const failed = started.findIndex((outcome) => outcome.status === 'rejected');
    if (failed >= 0) {
      for (const outcome of started) {
        if (outcome.status === 'fulfilled') await outcome.value.worker.terminate();
      }
      const reason = describeError((started[failed] as PromiseRejectedResult).reason);
      throw new EdgePotholeError(
        'EP_ENGINE_UNAVAILABLE',
        `tfjs worker ${failed + 1} of ${count} did not start: ${reason}; ` +
          'set infer.workers to 1 to run tfjs without worker threads',
      );
    }

    const workers = started.map((outcome) =>
      (outcome as PromiseFulfilledResult<StartedWorker>).value);
    const slots = workers.map(({ worker }, index) => ({ index, worker }));

    return new WorkerPool(slots, workers[0].ready.identity, workers[0].ready.backend);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Features of `frames`, split into one contiguous run per worker. */
  async features(frames: Uint8Array[]): Promise<Float32Array[]> {
    const runs = splitEvenly(frames, this.slots.length);
    const answers = await Promise.all(runs.map((run) => {
      // Copies, so each frame's own buffer can be handed over (transferred) whole.
      const copies = run.map((frame) => new Uint8Array(frame));
      const transfer = copies.map((copy) => copy.buffer as ArrayBuffer);

      return this.submit({ kind: 'features', jobId: this.nextJobId++, frames: copies }, transfer);
    }));

    return answers.flatMap((answer) => (answer.kind === 'features' ? answer.features : []));
  }

  /** Live tfjs tensors summed over the workers. */
  async liveTensors(): Promise<number> {
    const answers = await Promise.all(this.slots.map((slot) =>
      this.submit({ kind: 'tensors', jobId: this.nextJobId++ }, [], slot.index)));

    return answers.reduce((sum, answer) => sum + (answer.kind === 'tensors' ? answer.count : 0), 0);
  }

  /** Rejects queued jobs and stops every worker; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;

    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(this.disposedError());
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private submit(request: ToWorker, transfer: ArrayBuffer[], slot?: number): Promise<FromWorker> {
    if (this.closed) return Promise.reject(this.disposedError());
    if (this.failure) return Promise.reject(this.failure);

    return new Promise((resolve, reject) => {
      this.queue.push({ request, transfer, slot, resolve, reject });
      this.dispatch();
    });
  }

  /** Hands queued jobs to idle workers, oldest job first. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;

      const next = this.queue.findIndex((job) => job.slot === undefined || job.slot === slot.index);
      if (next < 0) continue;

      const [job] = this.queue.splice(next, 1);
      slot.job = job;
      slot.worker.postMessage(job.request, job.transfer);
    }
  }

  private watch(slot: Slot): void {
    slot.worker.on('message', (message: FromWorker) => this.settle(slot, message));
    slot.worker.on('error', (err) => this.broken(slot, err));
    slot.worker.on('exit', (code) => this.broken(slot, new Error(`exited with code ${code}`)));
  }

  private settle(slot: Slot, message: FromWorker): void {
    const job = slot.job;
    const jobId = 'jobId' in message ? message.jobId : undefined;
    if (!job || jobId !== job.request.jobId) {
      this.broken(slot, new Error(`answered job ${jobId} while working on ${job?.request.jobId}`));

      return;
    }

    slot.job = undefined;
    if (message.kind === 'error') job.reject(new Error(message.message));
    else job.resolve(message);
    this.dispatch();
  }

  /** A worker died or misbehaved: everything waiting fails, and so does every later call. */
  private broken(slot: Slot, cause: Error): void {
    const error = this.closed
      ? this.disposedError()
      : new EdgePotholeError(
        'EP_ENGINE_UNAVAILABLE',
        `tfjs worker ${slot.index + 1} stopped (${cause.message}); ` +
          'the engine cannot continue: restart the process (systemd does so for the daemon)',
        { cause },
      );
    this.failure ??= error;

    slot.job?.reject(error);
    slot.job = undefined;
    for (const job of this.queue.splice(0)) job.reject(error);
  }

  private disposedError(): Error {
    return new Error('the tfjs worker pool was disposed; create a new engine');
  }
}
