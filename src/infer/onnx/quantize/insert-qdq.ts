import { onnx } from 'onnx-proto';

import { intAttr, node } from '../proto';
import {
  consumers, initializerMap, producers, rawInitializer, readFloats, setInitializers,
} from './graph-edit';

/**
 * Rewrites a float graph (batch norms already folded) into ONNX's QDQ form: each activation a
 * convolution, pooling or concatenation reads passes through QuantizeLinear and
 * DequantizeLinear (uint8, with a range measured on real photos), and each convolution's
 * weights are int8 per output channel with an int32 bias. ONNX Runtime recognises these
 * patterns and runs them as integer kernels (QLinearConv and friends, VNNI where the CPU has
 * it); the graph stays a plain ONNX graph that any runtime can execute.
 */

export interface Range {
  min: number;
  max: number;
}

/** Operators whose inputs are quantised (ONNX Runtime has integer kernels for them). */
const INTEGER_OPS = new Set(['Conv', 'MaxPool', 'AveragePool', 'Concat']);

/** Operators whose output is an activation worth quantising for the next integer op. */
const ACTIVATION_OPS = new Set(['Transpose', 'Relu', 'MaxPool', 'AveragePool', 'Concat']);

/** Operators whose output range is their input's: sharing it lets ONNX Runtime drop a Q/DQ. */
const RANGE_PRESERVING = new Set(['MaxPool', 'AveragePool']);

const DataType = onnx.TensorProto.DataType;

const isIntegerOp = (n: onnx.INodeProto) => INTEGER_OPS.has(n.opType as string);

interface Quantisation {
  scale: number;
  zeroPoint: number;
}

/** uint8 parameters for a range; zero stays exactly representable (ReLU outputs use 0..255). */
export function uint8Quantisation(range: Range): Quantisation {
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  const scale = max > min ? (max - min) / 255 : 1;

  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-min / scale))) };
}

/**
 * The activations to quantise: outputs of ACTIVATION_OPS that some INTEGER_OPS node reads.
 * A pooling output takes its input's range, so ONNX Runtime can run it on the integers.
 */
export function activationsToQuantise(graph: onnx.IGraphProto): string[] {
  const readers = consumers(graph);

  return (graph.node ?? [])
    .filter((n) => ACTIVATION_OPS.has(n.opType as string))
    .map((n) => (n.output ?? [])[0])
    .filter((value) => (readers.get(value) ?? []).some((r) => isIntegerOp(r)));
}

/** Ranges with every range-preserving op's output set to its input's. */
function propagateRanges(
  graph: onnx.IGraphProto,
  measured: Map<string, Range>,
): Map<string, Range> {
  const ranges = new Map(measured);
  for (const n of graph.node ?? []) {
    const input = ranges.get((n.input ?? [])[0]);
    if (RANGE_PRESERVING.has(n.opType as string) && input) ranges.set((n.output ?? [])[0], input);
  }

  return ranges;
}

/** Appends Q and DQ for `value` and points the integer ops that read it at the DQ output. */
function quantiseActivation(
  graph: onnx.IGraphProto, value: string, q: Quantisation,
  initializers: Map<string, onnx.ITensorProto>, readers: onnx.INodeProto[],
): void {
  const [scale, zero] = [`${value}/q_scale`, `${value}/q_zero`];
  initializers.set(scale, rawInitializer(scale, [], DataType.FLOAT, Float32Array.of(q.scale)));
  initializers.set(zero, rawInitializer(zero, [], DataType.UINT8, Uint8Array.of(q.zeroPoint)));
  graph.node?.push(
    node('QuantizeLinear', `${value}/Quantize`, [value, scale, zero], [`${value}/q`]),
    node('DequantizeLinear', `${value}/Dequantize`, [`${value}/q`, scale, zero], [`${value}/dq`]),
  );
  for (const reader of readers.filter(isIntegerOp)) {
    reader.input = (reader.input ?? []).map((input) => (input === value ? `${value}/dq` : input));
  }
}

/** A per-axis DequantizeLinear of an integer initializer, reading it as float `output`. */
function dequantised(
  graph: onnx.IGraphProto, initializers: Map<string, onnx.ITensorProto>, output: string,
  integers: onnx.ITensorProto, scales: Float32Array, zeroType: number,
): string {
  const [scale, zero] = [`${output}/scale`, `${output}/zero`];
  const zeros = zeroType === DataType.INT32
    ? new Int32Array(scales.length)
    : new Int8Array(scales.length);
  initializers.set(integers.name as string, integers);
  initializers.set(scale, rawInitializer(scale, [scales.length], DataType.FLOAT, scales));
  initializers.set(zero, rawInitializer(zero, [scales.length], zeroType, zeros));
  graph.node?.push(node('DequantizeLinear', `${output}/Dequantize`,
    [integers.name as string, scale, zero], [output], [intAttr('axis', 0)]));

  return output;
}

/** Symmetric int8 codes per output channel: scale = largest |weight| / 127. */
export function int8PerChannel(
  weights: Float32Array,
  channels: number,
): { scales: Float32Array; codes: Int8Array } {
  const perChannel = weights.length / channels;
  const scales = new Float32Array(channels);
  const codes = new Int8Array(weights.length);
  for (let c = 0; c < channels; c++) {
    const start = c * perChannel;
    let largest = 0;
    for (let i = start; i < start + perChannel; i++) {
      largest = Math.max(largest, Math.abs(weights[i]));
    }
    scales[c] = largest > 0 ? largest / 127 : 1;
    for (let i = start; i < start + perChannel; i++) codes[i] = Math.round(weights[i] / scales[c]);
  }

  return { scales, codes };
}

/** int8 weights per output channel (symmetric) and the int32 bias ONNX's QLinearConv wants. */
function quantiseConvWeights(
  graph: onnx.IGraphProto, conv: onnx.INodeProto, inputScale: number,
  initializers: Map<string, onnx.ITensorProto>,
): void {
  const [input, weightName, biasName] = conv.input ?? [];
  const weightTensor = initializers.get(weightName) as onnx.ITensorProto;
  const weights = readFloats(weightTensor);
  const dims = (weightTensor.dims ?? []).map(Number);
  const channels = dims[0];

  const { scales, codes } = int8PerChannel(weights, channels);
  const weightCodes = rawInitializer(`${weightName}/i8`, dims, DataType.INT8, codes);
  const inputs = [input, dequantised(graph, initializers, `${weightName}/dq`, weightCodes, scales,
    DataType.INT8)];

  if (biasName) {
    const bias = readFloats(initializers.get(biasName) as onnx.ITensorProto);
    const biasScales = scales.map((s) => s * inputScale);
    const biasCodes = Int32Array.from(bias, (b, c) => Math.round(b / biasScales[c]));
    const codesTensor = rawInitializer(`${biasName}/i32`, [channels], DataType.INT32, biasCodes);
    inputs.push(dequantised(graph, initializers, `${biasName}/dq`, codesTensor, biasScales,
      DataType.INT32));
  }
  conv.input = inputs;
}

/**
 * Quantises `graph` in place with the measured activation `ranges` (by value name). Returns
 * the number of activations and convolutions quantised.
 */
export function insertQdq(
  graph: onnx.IGraphProto,
  measured: Map<string, Range>,
): { activations: number; convolutions: number } {
  const ranges = propagateRanges(graph, measured);
  const initializers = initializerMap(graph);
  const readers = consumers(graph);
  const scales = new Map<string, number>();

  const values = activationsToQuantise(graph).filter((value) => ranges.has(value));
  for (const value of values) {
    const q = uint8Quantisation(ranges.get(value) as Range);
    scales.set(`${value}/dq`, q.scale);
    quantiseActivation(graph, value, q, initializers, readers.get(value) ?? []);
  }

  // A convolution whose input stays float (it reads no quantised activation) stays float.
  const inputScale = (conv: onnx.INodeProto) => scales.get((conv.input ?? [])[0]);
  const convs = (graph.node ?? []).filter((n) => n.opType === 'Conv' && inputScale(n));
  for (const conv of convs) {
    quantiseConvWeights(graph, conv, inputScale(conv) as number, initializers);
  }

  graph.node = sortTopologically(graph);
  setInitializers(graph, initializers);

  return { activations: values.length, convolutions: convs.length };
}

/** ONNX wants nodes in topological order; the appended Q/DQ nodes are moved to their place. */
function sortTopologically(graph: onnx.IGraphProto): onnx.INodeProto[] {
  const writers = producers(graph);
  const placed = new Set<onnx.INodeProto>();
  const order: onnx.INodeProto[] = [];
  const visit = (n: onnx.INodeProto) => {
    if (placed.has(n)) return;
    placed.add(n);
    for (const input of n.input ?? []) {
      const writer = writers.get(input);
      if (writer) visit(writer);
    }
    order.push(n);
  };
  for (const n of graph.node ?? []) visit(n);

  return order;
}
