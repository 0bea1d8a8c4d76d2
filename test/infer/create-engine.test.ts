import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { createEngine, onnxRuntimeLoadError, pickEngine } from '../../src/infer/create-engine';
import type { EngineChoice } from '../../src/infer/engine';

const PLATFORM = `${process.platform}-${process.arch}`;
const MISSING = new Error('libonnxruntime.so.1: cannot open shared object file');

test('loads onnxruntime-node on this machine', () => {
  assert.equal(onnxRuntimeLoadError(), undefined);
});

test('creates the ONNX Runtime engine for engine auto when onnxruntime-node loads', async () => {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'ep-create-engine-'));
  try {
    // float32: building the default int8 graph in a fresh cache takes 15 s, and is tested
    // in onnx/onnx-engine.test.ts.
    const engine = await createEngine({
      engine: 'auto', cacheDir, threads: 1, graphWeights: 'float32',
    });
    await engine.dispose();

    assert.deepEqual([engine.engine, engine.backend, engine.threads], ['onnxruntime', 'cpu', 1]);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('picks tfjs for engine tfjs whether or not ONNX Runtime loads', () => {
  assert.deepEqual(pickEngine('tfjs', undefined), { engine: 'tfjs' });
  assert.deepEqual(pickEngine('tfjs', MISSING), { engine: 'tfjs' });
});

test('falls back to tfjs for engine auto when ONNX Runtime does not load, saying why', () => {
  assert.deepEqual(pickEngine('auto', MISSING), {
    engine: 'tfjs',
    fallbackReason:
      `onnxruntime-node did not load on ${PLATFORM}: ` +
      'libonnxruntime.so.1: cannot open shared object file',
  });
});

test('refuses engine onnxruntime when ONNX Runtime does not load, naming the fix', () => {
  assert.throws(() => pickEngine('onnxruntime', MISSING), {
    code: 'EP_ENGINE_UNAVAILABLE',
    message:
      `engine "onnxruntime" is unavailable: onnxruntime-node did not load on ${PLATFORM} ` +
      '(libonnxruntime.so.1: cannot open shared object file); run "npm install" to restore it, ' +
      'or set engine to "tfjs"',
  });
});

test('rejects an unknown engine name, naming the value and the choices', async () => {
  await assert.rejects(createEngine({ engine: 'gpu' as EngineChoice }), {
    code: 'EP_CONFIG_INVALID',
    message: 'engine must be one of auto, onnxruntime, tfjs, received "gpu"',
  });
});
