import { createHash } from 'node:crypto';

import type { LoadedBackbone } from '../../../src/infer/backbone';
import { seededFrame } from '../../../src/infer/onnx/graph-check';
import { tf } from '../../../src/infer/tf-backend';

/**
 * A Keras model of a few hundred weights that uses every layer kind and padding case the
 * exporter handles (strided valid and same convolutions, asymmetric and even kernels, bias,
 * fused relu, batch norm with and without gamma or beta, same pooling, concatenation), so
 * the exporter is tested in milliseconds instead of on the 90 MB backbone.
 */
export const TINY_SIZE = 17;

export interface TinyOptions {
  /** Bottleneck layer; default `bottleneck`. `mystery` is a ZeroPadding2D, not exportable. */
  layer?: string;
  /** Seed of every weight; two seeds give two different networks. Default 1. */
  seed?: number;
  /** Stands in for the weights file in the fingerprint; default `tiny`. */
  fingerprintOf?: string;
}

function conv(name: string, filters: number, kernelSize: number[], seed: number, extra = {}) {
  return tf.layers.conv2d({
    name,
    filters,
    kernelSize,
    useBias: false,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
    ...extra,
  });
}

/** Batch norm with non-trivial moving statistics, so a wrong epsilon or order shows. */
function randomiseBatchNorm(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const values = layer.weights.map((variable, i) => {
      const noise = seededFrame(variable.shape[0] as number, seed + i);
      const role = variable.originalName.split('/').pop();
      // gamma and variance around 1 (variance must stay positive), the others around 0.
      const offset = role === 'gamma' || role === 'moving_variance' ? 1 : 0;

      return tf.tensor1d(noise.map((v) => offset + v / 2));
    });
    layer.setWeights(values);
    values.forEach((t) => t.dispose());
  }
}

function build(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [TINY_SIZE, TINY_SIZE, 3], name: 'tiny_input' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    layer.apply(x) as tf.SymbolicTensor;

  let x = apply(conv('stem', 8, [3, 3], seed, { strides: 2 }), input);
  x = apply(tf.layers.batchNormalization({ name: 'stem_bn', scale: false }), x);
  x = apply(tf.layers.activation({ name: 'stem_relu', activation: 'relu' }), x);
  const branches = [
    apply(conv('wide', 4, [1, 7], seed + 1, {
      padding: 'same',
      useBias: true,
      activation: 'relu',
      biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed }),
    }), x),
    apply(conv('even', 4, [2, 2], seed + 2, { padding: 'same' }), x),
    apply(tf.layers.averagePooling2d({ name: 'avg', poolSize: 3, strides: 1, padding: 'same' }), x),
    apply(tf.layers.maxPooling2d({ name: 'max', poolSize: 3, strides: 1, padding: 'same' }), x),
  ];
  const mixed = apply(tf.layers.concatenate({ name: 'mixed', axis: -1 }), branches);
  let y = apply(conv('down', 6, [3, 3], seed + 3, { strides: 2, padding: 'same' }), mixed);
  y = apply(tf.layers.batchNormalization({ name: 'down_bn', center: false, epsilon: 0.01 }), y);
  const bottleneck = apply(tf.layers.activation({ name: 'bottleneck', activation: 'relu' }), y);
  const mystery = apply(tf.layers.zeroPadding2d({ name: 'mystery', padding: 1 }), bottleneck);
  const top = apply(tf.layers.flatten({ name: 'top_flatten' }), mystery);

  const model = tf.model({ inputs: input, outputs: apply(tf.layers.dense({ units: 2 }), top) });
  randomiseBatchNorm(model, seed);

  return model;
}

/** A LoadedBackbone, shaped like what loadBackbone returns, around the tiny model. */
export function tinyBackbone(options: TinyOptions = {}): LoadedBackbone {
  const layer = options.layer ?? 'bottleneck';
  const fullModel = build(options.seed ?? 1);

  const layerOutput = fullModel.getLayer(layer).output as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(layerOutput) as tf.SymbolicTensor;
  const featureModel = tf.model({ inputs: fullModel.inputs, outputs: pooled });
  const fingerprint = createHash('sha256')
    .update(`${options.fingerprintOf ?? 'tiny'};${layer}`)
    .digest('hex');

  return {
    identity: {
      name: 'tiny',
      package: 'test',
      layer,
      pooling: 'global-average',
      inputSize: TINY_SIZE,
      normalization: '[-1,1]',
      featureLength: pooled.shape[1] as number,
      fingerprint,
    },
    fullModel,
    featureModel,
  };
}

/** Runs the tfjs feature model: the reference the ONNX graph must match. */
export function tfjsFeatures(loaded: LoadedBackbone, batch: Float32Array, n: number): Float32Array {
  const size = loaded.identity.inputSize;

  return tf.tidy(() => {
    const output = loaded.featureModel.predict(tf.tensor4d(batch, [n, size, size, 3])) as tf.Tensor;

    return output.dataSync() as Float32Array;
  });
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);

  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);
}
