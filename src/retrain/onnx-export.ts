import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { InferenceEngine } from '../infer/engine';
import type { SoftmaxHead } from '../infer/head';
import { replaceDirectory } from '../infer/model-dir';
import { EdgePotholeError } from '../util/errors';
import { temporarySibling } from '../util/fs-atomic';

/**
 * retrain.py's --saved_model_dir exports a TensorFlow SavedModel: the whole network, image
 * in, class probabilities out, to serve without retrain.py. There is no TensorFlow here; the
 * equivalent whole-network file is the ONNX graph the onnxruntime engine runs, with the new
 * head baked in. It is written with labels.txt and signature.json (what the input and outputs
 * are), and runs in any ONNX runtime (Python onnxruntime, C++, C#, ...).
 */
export function signature(inputSize: number): object {
  return {
    input: {
      name: 'input',
      shape: ['N', inputSize, inputSize, 3],
      dtype: 'float32',
      meaning: `RGB photos stretched to ${inputSize}x${inputSize} (no crop, no letterbox), ` +
        'value = byte / 127.5 - 1',
    },
    outputs: {
      scores: 'class probabilities [N, classes], in the order of labels.txt',
      features: 'the bottleneck [N, featureLength]: global average pool of the backbone layer',
    },
  };
}

/** Throws before any work when the engine cannot export (the tfjs engine has no ONNX graph). */
export function checkCanExport(engine: InferenceEngine): void {
  if (engine.engine !== 'onnxruntime') {
    throw new EdgePotholeError('EP_USAGE', `--saved_model_dir exports the ONNX graph of the ` +
      `onnxruntime engine, but the engine is ${engine.engine}; pass --engine onnxruntime, or ` +
      'drop --saved_model_dir (the model directory works with both engines)');
  }
}

/**
 * Bakes `head` into the engine's graph (exported and checked against TensorFlow.js unless
 * cached) and writes `dir` atomically: model.onnx, labels.txt, signature.json.
 */
export async function exportOnnxModel(
  engine: InferenceEngine,
  head: SoftmaxHead,
  labels: string[],
  dir: string,
): Promise<void> {
  checkCanExport(engine);
  await engine.setHead(head);
  const graph = (engine as InferenceEngine & { graph?: { file?: string } }).graph;
  if (!graph?.file) {
    throw new EdgePotholeError('EP_ENGINE_UNAVAILABLE', 'the ONNX graph was built in memory ' +
      'only (its cache directory is not writable), so --saved_model_dir has nothing to copy; ' +
      'set EDGE_POTHOLE_CACHE_DIR to a writable directory');
  }

  const staging = temporarySibling(dir);
  try {
    await mkdir(staging, { recursive: true });
    await copyFile(graph.file, path.join(staging, 'model.onnx'));
    await writeFile(path.join(staging, 'labels.txt'), `${labels.join('\n')}\n`);
    const described = JSON.stringify(signature(engine.backbone.inputSize), null, 2);
    await writeFile(path.join(staging, 'signature.json'), `${described}\n`);
    await replaceDirectory(staging, path.resolve(dir));
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
