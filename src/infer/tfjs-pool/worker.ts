import { parentPort, workerData } from 'node:worker_threads';

import { describeError } from '../../util/errors';
import { configureLogger } from '../../util/logger';
import { loadBackbone, type LoadedBackbone } from '../backbone';
import { initTensorflow, tf } from '../tf-backend';
import { tfjsFeatures } from '../tfjs-features';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol';

/**
 * Entry point of one tfjs worker thread (started by WorkerPool): loads the backbone once,
 * then answers feature requests one at a time. It logs nothing itself: failures go back to
 * the pool as messages and are logged once there, so N workers do not repeat every line.
 */

const port = parentPort;
if (!port) throw new Error('worker.ts is a worker_threads entry point; start it with WorkerPool');

function reply(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function answer(loaded: LoadedBackbone, request: ToWorker): Promise<void> {
  try {
    if (request.kind === 'tensors') {
      reply({ kind: 'tensors', jobId: request.jobId, count: tf.memory().numTensors });

      return;
    }

    const features = await tfjsFeatures(loaded, request.frames);
    const buffers = features.map((vector) => vector.buffer as ArrayBuffer);
    reply({ kind: 'features', jobId: request.jobId, features }, buffers);
  } catch (err) {
    reply({ kind: 'error', jobId: request.jobId, message: describeError(err) });
  }
}

async function start(setup: WorkerSetup): Promise<void> {
  configureLogger({ level: 'silent' });

  let loaded: LoadedBackbone;
  let backend: string;
  try {
    backend = await initTensorflow(setup.tfBackend);
    loaded = await loadBackbone(setup.layer);
  } catch (err) {
    reply({ kind: 'failed', message: describeError(err) });
    port?.close();

    return;
  }

  // One request at a time: tfjs on wasm is single-threaded, a second would only wait.
  let queue = Promise.resolve();
  port?.on('message', (request: ToWorker) => {
    queue = queue.then(() => answer(loaded, request));
  });
  reply({ kind: 'ready', identity: loaded.identity, backend });
}

void start(workerData as WorkerSetup);
