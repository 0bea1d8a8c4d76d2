import os from 'node:os';

import { describeError, EdgePotholeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import type { EngineChoice, EngineOptions, InferenceEngine } from './engine';
import { initTensorflow } from './tf-backend';
import { TfjsEngine } from './tfjs-engine';
import { checkWorkers, TfjsPoolEngine } from './tfjs-pool/pool-engine';

const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'onnxruntime', 'tfjs'];

/** The engine `createEngine` will build, and why it is not the one asked for. */
export interface EngineDecision {
  engine: 'onnxruntime' | 'tfjs';
  /** Set when `auto` fell back to tfjs: what kept ONNX Runtime from loading. */
  fallbackReason?: string;
}

/**
 * Why onnxruntime-node cannot be used in this process (its native binding failed to load,
 * e.g. no prebuilt binary for this platform), or undefined when it loads.
 */
export function onnxRuntimeLoadError(): Error | undefined {
  try {
    require('onnxruntime-node');

    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * Decides the engine from the configured choice and the outcome of loading ONNX Runtime
 * (`onnxError`, undefined when it loaded). Pure, so the fallback rules are testable without
 * breaking the installation. Throws EP_ENGINE_UNAVAILABLE when `onnxruntime` was asked for
 * explicitly and does not load.
 */
export function pickEngine(choice: EngineChoice, onnxError: Error | undefined): EngineDecision {
  if (choice === 'tfjs') return { engine: 'tfjs' };
  if (!onnxError) return { engine: 'onnxruntime' };

  const platform = `${process.platform}-${process.arch}`;
  if (choice === 'auto') {
    return {
      engine: 'tfjs',
      fallbackReason: `onnxruntime-node did not load on ${platform}: ${describeError(onnxError)}`,
    };
  }

  throw new EdgePotholeError(
    'EP_ENGINE_UNAVAILABLE',
    `engine "onnxruntime" is unavailable: onnxruntime-node did not load on ${platform} ` +
      `(${describeError(onnxError)}); run "npm install" to restore it, or set engine to "tfjs"`,
    { cause: onnxError },
  );
}

async function createOnnxEngine(options: EngineOptions): Promise<InferenceEngine> {
  // Required here, not imported at the top: loading it loads onnxruntime-node, which is the
  // very thing that may be missing when this module is used with engine "tfjs".
  const { OnnxEngine } = require('./onnx/onnx-engine') as typeof import('./onnx/onnx-engine');

  return OnnxEngine.create(options);
}

/**
 * tfjs in worker threads when the backend is wasm and more than one worker is wanted (wasm
 * runs on one thread in Node, so workers are the only way to use more cores); otherwise in
 * this thread. Native TensorFlow threads by itself and needs no workers.
 */
async function createTfjsEngine(options: EngineOptions): Promise<InferenceEngine> {
  const workers = checkWorkers(options.workers ?? os.availableParallelism());
  const backend = await initTensorflow(options.tfBackend ?? 'auto');
  if (backend === 'wasm' && workers > 1) {
    return TfjsPoolEngine.create({ ...options, tfBackend: 'wasm' }, workers);
  }

  return TfjsEngine.create(options);
}

/**
 * Builds the inference engine the options ask for (default `auto`: ONNX Runtime when
 * onnxruntime-node loads, else TensorFlow.js with a warning saying why) and logs engine,
 * backend, threads and workers once it is ready. Throws EP_CONFIG_INVALID for an unknown
 * engine name.
 */
export async function createEngine(options: EngineOptions = {}): Promise<InferenceEngine> {
  const choice = options.engine ?? 'auto';
  if (!ENGINE_CHOICES.includes(choice)) {
    throw new EdgePotholeError(
      'EP_CONFIG_INVALID',
      `engine must be one of ${ENGINE_CHOICES.join(', ')}, received ${JSON.stringify(choice)}`,
    );
  }

  const log = stageLogger('infer');
  const decision = pickEngine(choice, choice === 'tfjs' ? undefined : onnxRuntimeLoadError());
  if (decision.fallbackReason) {
    log.warn({ reason: decision.fallbackReason }, 'onnx runtime unavailable, using tfjs');
  }

  const engine =
    decision.engine === 'onnxruntime'
      ? await createOnnxEngine(options)
      : await createTfjsEngine(options);
  log.info(
    {
      engine: engine.engine,
      backend: engine.backend,
      threads: engine.threads,
      workers: engine.workers,
      graph: 'graphWeights' in engine ? engine.graphWeights : undefined,
      layer: engine.backbone.layer,
    },
    'inference engine ready',
  );

  return engine;
}
