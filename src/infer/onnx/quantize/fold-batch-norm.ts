import type { onnx } from 'onnx-proto';

import { floatTensor } from '../proto';
import {
  consumers, floatAttribute, initializerMap, producers, readFloats, setInitializers,
} from './graph-edit';

/**
 * Folds every BatchNormalization that directly follows a Conv into that Conv's weights and
 * bias. Inference-mode batch norm is a per-channel scale and shift, so the result is the
 * same function; ONNX Runtime does this itself for float graphs, but an int8 graph must be
 * quantised after the fold, or the scale would stretch the quantised weights.
 */

/** ONNX's BatchNormalization default. */
const DEFAULT_EPSILON = 1e-5;

interface Fold {
  conv: onnx.INodeProto;
  norm: onnx.INodeProto;
}

/** Conv -> BatchNormalization pairs whose Conv output feeds nothing else. */
function foldable(graph: onnx.IGraphProto): Fold[] {
  const writers = producers(graph);
  const readers = consumers(graph);

  return (graph.node ?? []).flatMap((norm) => {
    if (norm.opType !== 'BatchNormalization') return [];

    const input = (norm.input ?? [])[0];
    const conv = writers.get(input);
    if (conv?.opType !== 'Conv' || (readers.get(input) ?? []).length !== 1) return [];

    return [{ conv, norm }];
  });
}

function foldOne(fold: Fold, initializers: Map<string, onnx.ITensorProto>): void {
  const { conv, norm } = fold;
  const [, weightName, biasName] = conv.input ?? [];
  const [, gammaName, betaName, meanName, varianceName] = norm.input ?? [];
  const read = (name: string) => readFloats(initializers.get(name) as onnx.ITensorProto);
  const weightTensor = initializers.get(weightName) as onnx.ITensorProto;
  const weights = readFloats(weightTensor);
  const [gamma, beta, mean, variance] = [gammaName, betaName, meanName, varianceName].map(read);
  const epsilon = floatAttribute(norm, 'epsilon', DEFAULT_EPSILON);
  const channels = gamma.length;
  const bias = biasName ? read(biasName) : new Float32Array(channels);

  const perChannel = weights.length / channels;
  const foldedBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const k = gamma[c] / Math.sqrt(variance[c] + epsilon);
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) weights[i] *= k;
    foldedBias[c] = (bias[c] - mean[c]) * k + beta[c];
  }

  const foldedBiasName = `${conv.name}/folded_bias`;
  const dims = (weightTensor.dims ?? []).map(Number);
  initializers.set(weightName, floatTensor(weightName, dims, weights));
  initializers.set(foldedBiasName, floatTensor(foldedBiasName, [channels], foldedBias));
  conv.input = [(conv.input ?? [])[0], weightName, foldedBiasName];
  conv.output = [...(norm.output ?? [])];
}

/** Folds in place; returns how many batch norms went. */
export function foldBatchNorms(graph: onnx.IGraphProto): number {
  const folds = foldable(graph);
  const initializers = initializerMap(graph);
  for (const fold of folds) foldOne(fold, initializers);

  const removed = new Set(folds.map((fold) => fold.norm));
  graph.node = (graph.node ?? []).filter((node) => !removed.has(node));
  setInitializers(graph, initializers);

  return folds.length;
}
