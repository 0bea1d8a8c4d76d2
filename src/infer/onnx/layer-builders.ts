import type { onnx } from 'onnx-proto';

import { EdgePotholeError } from '../../util/errors';
import type { tf } from '../tf-backend';
import { floatAttr, floatTensor, intAttr, intsAttr, node, stringAttr } from './proto';
import { storeWeights, type GraphWeights } from './weight-storage';

/**
 * One small builder per Keras layer class, each turning a layer (NHWC in Keras) into ONNX
 * nodes on NCHW tensors. Every builder writes its result to the value named after the layer,
 * so the next layer finds its inputs by the inbound layers' names.
 */

type Layer = tf.layers.Layer;
type Config = ReturnType<Layer['getConfig']>;

/** Where builders append what they emit; the exporter assembles the graph from it. */
export interface ExportContext {
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
  /** How convolution kernels are stored (see weight-storage.ts). */
  weights: GraphWeights;
}

/** Emits the nodes for `layer`, reading `inputs` and writing the value named `layer.name`. */
export type LayerBuilder = (layer: Layer, inputs: string[], ctx: ExportContext) => void;

/** Keras activation names and the ONNX operator that computes each elementwise. */
const ACTIVATIONS: Record<string, string> = {
  linear: 'Identity',
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
};

/** Keras NHWC axis -> the same axis once the graph runs in NCHW. */
const NHWC_TO_NCHW_AXIS: Record<number, number> = { 0: 0, 1: 2, 2: 3, 3: 1, [-1]: 1 };

/** The error for anything the exporter does not translate; names the layer and the fix. */
export function unsupported(layer: Layer, what: string): EdgePotholeError {
  return new EdgePotholeError(
    'EP_ENGINE_UNAVAILABLE',
    `cannot export layer "${layer.name}" (${layer.getClassName()}) to ONNX: ${what}; ` +
      'use engine "tfjs" for this backbone',
  );
}

/** Keras stores sizes either as one number or as [rows, cols]. */
function pair(layer: Layer, config: Config, key: string, fallback?: unknown): [number, number] {
  const value = config[key] ?? fallback;
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) {
    return [value[0] as number, value[1] as number];
  }

  throw unsupported(layer, `${key} ${JSON.stringify(value)} is not one or two numbers`);
}

function requireChannelsLast(layer: Layer, config: Config): void {
  const format = config.dataFormat ?? 'channelsLast';
  if (format !== 'channelsLast') throw unsupported(layer, `dataFormat "${String(format)}"`);
}

/** A layer's weights by role (`kernel`, `bias`, `gamma`, `moving_mean`...), as float32. */
function weightsOf(layer: Layer): Map<string, { shape: number[]; data: Float32Array }> {
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const variable of layer.weights) {
    const role = variable.originalName.split('/').pop() as string;
    const data = variable.read().dataSync();
    if (!(data instanceof Float32Array)) {
      throw unsupported(layer, `weight ${variable.originalName} is ${variable.dtype}, not float32`);
    }
    weights.set(role, { shape: variable.shape as number[], data });
  }

  return weights;
}

function weight(layer: Layer, weights: ReturnType<typeof weightsOf>, role: string) {
  const found = weights.get(role);
  if (!found) throw unsupported(layer, `no "${role}" weight among [${[...weights.keys()]}]`);

  return found;
}

/**
 * Keras `same` padding as ONNX attributes. With stride 1 the padding does not depend on the
 * input size, so explicit pads say exactly what happens (TensorFlow puts an odd extra pixel
 * after, e.g. 0/1 for a 2-wide kernel); with larger strides SAME_UPPER does the same sum.
 */
function paddingAttrs(
  layer: Layer,
  config: Config,
  kernel: [number, number],
  strides: [number, number],
  dilation: [number, number] = [1, 1],
): onnx.IAttributeProto[] {
  const padding = config.padding;
  if (padding === 'valid') return [];
  if (padding !== 'same') throw unsupported(layer, `padding "${String(padding)}"`);

  if (strides[0] !== 1 || strides[1] !== 1) return [stringAttr('auto_pad', 'SAME_UPPER')];

  const total = kernel.map((k, axis) => (k - 1) * dilation[axis]);
  const begin = total.map((t) => Math.floor(t / 2));
  const end = total.map((t, axis) => t - begin[axis]);

  return [intsAttr('pads', [...begin, ...end])];
}

/** Appends the node writing `activation(input)` to the value named after the layer. */
function activation(layer: Layer, name: unknown, input: string, ctx: ExportContext): void {
  const opType = typeof name === 'string' ? ACTIVATIONS[name] : undefined;
  if (!opType) throw unsupported(layer, `activation ${JSON.stringify(name)}`);

  ctx.nodes.push(node(opType, `${layer.name}/${opType}`, [input], [layer.name]));
}

/** Keras kernels are [rows, cols, in, out]; ONNX Conv wants [out, in, rows, cols]. */
function kernelToOihw(hwio: Float32Array, shape: number[]): Float32Array {
  const [kh, kw, cin, cout] = shape;
  const oihw = new Float32Array(hwio.length);
  let source = 0;
  for (let h = 0; h < kh; h++) {
    for (let w = 0; w < kw; w++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) oihw[((o * cin + i) * kh + h) * kw + w] = hwio[source++];
      }
    }
  }

  return oihw;
}

const conv2d: LayerBuilder = (layer, [input], ctx) => {
  const config = layer.getConfig();
  requireChannelsLast(layer, config);
  const kernelSize = pair(layer, config, 'kernelSize');
  const strides = pair(layer, config, 'strides', 1);
  const dilation = pair(layer, config, 'dilationRate', 1);

  const weights = weightsOf(layer);
  const kernel = weight(layer, weights, 'kernel');
  const [kh, kw, cin, cout] = kernel.shape;
  const inputs = [input, `${layer.name}/W`];
  const oihw = kernelToOihw(kernel.data, kernel.shape);
  storeWeights(ctx, inputs[1], [cout, cin, kh, kw], oihw);
  if (config.useBias) {
    inputs.push(`${layer.name}/B`);
    ctx.initializers.push(floatTensor(inputs[2], [cout], weight(layer, weights, 'bias').data));
  }

  const linear = (config.activation ?? 'linear') === 'linear';
  const convOutput = linear ? layer.name : `${layer.name}/preactivation`;
  ctx.nodes.push(
    node('Conv', `${layer.name}/Conv`, inputs, [convOutput], [
      intsAttr('kernel_shape', kernelSize),
      intsAttr('strides', strides),
      intsAttr('dilations', dilation),
      ...paddingAttrs(layer, config, kernelSize, strides, dilation),
    ]),
  );
  if (!linear) activation(layer, config.activation, convOutput, ctx);
};

/** Inference-mode batch norm; Keras may drop gamma (`scale`) or beta (`center`). */
const batchNormalization: LayerBuilder = (layer, [input], ctx) => {
  const config = layer.getConfig();
  if (config.axis !== 3 && config.axis !== -1) {
    throw unsupported(layer, `axis ${JSON.stringify(config.axis)} (only 3, the channels)`);
  }
  const weights = weightsOf(layer);
  const mean = weight(layer, weights, 'moving_mean');
  const variance = weight(layer, weights, 'moving_variance');
  const channels = mean.data.length;

  const ones = new Float32Array(channels).fill(1);
  const gamma = config.scale ? weight(layer, weights, 'gamma').data : ones;
  const beta = config.center ? weight(layer, weights, 'beta').data : new Float32Array(channels);
  const names = ['scale', 'B', 'mean', 'var'].map((role) => `${layer.name}/${role}`);
  [gamma, beta, mean.data, variance.data].forEach((data, i) => {
    ctx.initializers.push(floatTensor(names[i], [channels], data));
  });

  const epsilon = floatAttr('epsilon', Number(config.epsilon ?? 1e-3));
  const name = `${layer.name}/BatchNormalization`;
  ctx.nodes.push(node('BatchNormalization', name, [input, ...names], [layer.name], [epsilon]));
};

const activationLayer: LayerBuilder = (layer, [input], ctx) => {
  activation(layer, layer.getConfig().activation, input, ctx);
};

function pooling(opType: 'MaxPool' | 'AveragePool'): LayerBuilder {
  return (layer, [input], ctx) => {
    const config = layer.getConfig();
    requireChannelsLast(layer, config);
    const kernelSize = pair(layer, config, 'poolSize');
    const strides = pair(layer, config, 'strides', config.poolSize);

    const attributes = [
      intsAttr('kernel_shape', kernelSize),
      intsAttr('strides', strides),
      ...paddingAttrs(layer, config, kernelSize, strides),
    ];
    // Keras averages only the pixels inside the image at the borders of `same` pooling. 0 is
    // also ONNX's default; it is spelled out because a 1 here is silently wrong at the edges.
    if (opType === 'AveragePool') attributes.push(intAttr('count_include_pad', 0));

    ctx.nodes.push(node(opType, `${layer.name}/${opType}`, [input], [layer.name], attributes));
  };
}

const concatenate: LayerBuilder = (layer, inputs, ctx) => {
  const axis = NHWC_TO_NCHW_AXIS[layer.getConfig().axis as number];
  if (axis === undefined) throw unsupported(layer, `axis ${layer.getConfig().axis}`);

  const name = `${layer.name}/Concat`;
  ctx.nodes.push(node('Concat', name, inputs, [layer.name], [intAttr('axis', axis)]));
};

/** Keyed by `layer.getClassName()`; the exporter refuses any class not listed here. */
export const LAYER_BUILDERS: Readonly<Record<string, LayerBuilder>> = Object.freeze({
  Conv2D: conv2d,
  BatchNormalization: batchNormalization,
  Activation: activationLayer,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  Concatenate: concatenate,
});
