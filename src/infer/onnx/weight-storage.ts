import { onnx } from 'onnx-proto';

import { EdgePotholeError } from '../../util/errors';
import type { ExportContext } from './layer-builders';
import { floatTensor, node } from './proto';

/**
 * How the exported graph stores convolution weights (nine tenths of its bytes):
 * - `float32`: as computed, 63 MB for mixed9.
 * - `uint8`: one byte per weight plus a per-tensor minimum and step, turned back into float32
 *   by Cast, Mul and Add, which ONNX Runtime folds into constants when the session opens, so
 *   inference runs the same float32 kernels. The nsfwjs backbone is itself stored as uint8
 *   with each tensor's own minimum and step (every kernel spans codes 0 to 255), so this
 *   recovers its exact codes: a quarter of the file, the same features.
 * - `float16`: half the file; rounds every weight to 11 significant bits.
 * - `int8`: not a storage but a precision: weights int8 per channel and activations uint8,
 *   ranges measured on real photos (quantize/), run by ONNX Runtime's integer kernels: about
 *   2.6 times less CPU per frame, features within about 0.2% of float (cosine similarity).
 *   The exporter writes float32 for it; quantize/ rewrites the graph afterwards.
 */
export type GraphWeights = 'float32' | 'uint8' | 'float16' | 'int8';

export const GRAPH_WEIGHTS: readonly GraphWeights[] = ['float32', 'uint8', 'float16', 'int8'];

/** Throws EP_CONFIG_INVALID unless `value` is one of GRAPH_WEIGHTS. */
export function checkGraphWeights(value: unknown): GraphWeights {
  if (GRAPH_WEIGHTS.includes(value as GraphWeights)) return value as GraphWeights;

  throw new EdgePotholeError(
    'EP_CONFIG_INVALID',
    `graph weights must be one of ${GRAPH_WEIGHTS.join(', ')}, received ${JSON.stringify(value)}`,
  );
}

/** Rounds float32 values to IEEE half precision bits (round to nearest even). */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint16Array(values.length);
  const view = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < values.length; i++) {
    view.setFloat32(0, values[i]);
    const x = view.getUint32(0);
    const sign = (x >>> 16) & 0x8000;
    const exponent = ((x >>> 23) & 0xff) - 127 + 15;
    const mantissa = x & 0x7fffff;
    if (exponent >= 31) {
      bits[i] = sign | 0x7c00;
    } else if (exponent <= 0) {
      // Subnormal halves; conv weights this small (< 6e-5) are rare and lose nothing that matters.
      const shifted = exponent < -10 ? 0 : (mantissa | 0x800000) >>> (13 - exponent);
      bits[i] = sign | ((shifted + 1) >>> 1);
    } else {
      const rounded = (exponent << 10) + (mantissa >>> 13) + roundBit(mantissa);
      bits[i] = sign | Math.min(rounded, 0x7c00);
    }
  }

  return bits;
}

/** 1 when the 13 bits dropped from a mantissa round the kept part up (ties to even). */
function roundBit(mantissa: number): number {
  const dropped = mantissa & 0x1fff;
  if (dropped > 0x1000) return 1;

  return dropped === 0x1000 ? (mantissa >>> 13) & 1 : 0;
}

function rawTensor(name: string, dims: number[], type: number, bytes: ArrayBufferView) {
  const rawData = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  return { name, dims, dataType: type, rawData } satisfies onnx.ITensorProto;
}

function storeUint8(ctx: ExportContext, name: string, dims: number[], data: Float32Array): void {
  let min = Infinity;
  let max = -Infinity;
  for (const value of data) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  // A constant tensor has no step to store; float32 costs nothing worth saving there.
  if (!(max > min)) {
    ctx.initializers.push(floatTensor(name, dims, data));

    return;
  }

  const step = (max - min) / 255;
  const codes = Uint8Array.from(data, (value) => Math.round((value - min) / step));
  const type = onnx.TensorProto.DataType;
  ctx.initializers.push(
    rawTensor(`${name}/codes`, dims, type.UINT8, codes),
    floatTensor(`${name}/step`, [], Float32Array.of(step)),
    floatTensor(`${name}/min`, [], Float32Array.of(min)),
  );
  ctx.nodes.push(
    node('Cast', `${name}/Cast`, [`${name}/codes`], [`${name}/float`], [
      { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: type.FLOAT },
    ]),
    node('Mul', `${name}/Mul`, [`${name}/float`, `${name}/step`], [`${name}/scaled`]),
    node('Add', `${name}/Add`, [`${name}/scaled`, `${name}/min`], [name]),
  );
}

function storeFloat16(ctx: ExportContext, name: string, dims: number[], data: Float32Array): void {
  const type = onnx.TensorProto.DataType;
  ctx.initializers.push(rawTensor(`${name}/half`, dims, type.FLOAT16, toFloat16Bits(data)));
  ctx.nodes.push(
    node('Cast', `${name}/Cast`, [`${name}/half`], [name], [
      { name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: type.FLOAT },
    ]),
  );
}

/**
 * Makes the float32 value `name` (dims, row-major `data`) available to later nodes, stored
 * the way `ctx.weights` asks. Used for convolution kernels; small tensors stay float32.
 */
export function storeWeights(
  ctx: ExportContext,
  name: string,
  dims: number[],
  data: Float32Array,
): void {
  // int8 graphs are quantised after export, from float32 weights (quantize/quantise.ts).
  if (ctx.weights === 'uint8') storeUint8(ctx, name, dims, data);
  else if (ctx.weights === 'float16') storeFloat16(ctx, name, dims, data);
  else ctx.initializers.push(floatTensor(name, dims, data));
}
