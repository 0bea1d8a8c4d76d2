import os from 'node:os';

import { onnx } from 'onnx-proto';

/**
 * Small constructors for the ONNX protobuf messages the exporter emits, so the layer builders
 * read as "a Conv with these attributes" rather than as protobuf plumbing.
 */

/** The operator set every node is written against; Softmax got its per-axis meaning in 13. */
export const OPSET_VERSION = 13;

/** ONNX IR version 8 is the newest the onnx-proto package (ONNX 1.10) describes. */
export const IR_VERSION = 8;

/** A float32 initializer; `data` is row-major in `dims` order. */
export function floatTensor(name: string, dims: number[], data: Float32Array): onnx.ITensorProto {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new Error(`tensor ${name} has ${data.length} values, dims [${dims}] need ${expected}`);
  }

  // raw_data is little-endian by the ONNX spec; the typed array's bytes are only that on a
  // little-endian host, which every platform onnxruntime-node ships binaries for is.
  if (os.endianness() !== 'LE') throw new Error('ONNX export needs a little-endian host');

  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

export function intAttr(name: string, value: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

export function intsAttr(name: string, values: number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

export function floatAttr(name: string, value: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

export function stringAttr(name: string, value: string): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(value, 'utf8') };
}

/** One operator node; `name` only has to be unique, it shows up in ONNX Runtime errors. */
export function node(
  opType: string,
  name: string,
  inputs: string[],
  outputs: string[],
  attribute: onnx.IAttributeProto[] = [],
): onnx.INodeProto {
  return { opType, name, input: inputs, output: outputs, attribute };
}

/** A float32 graph input or output; a string dimension is symbolic (e.g. the batch `N`). */
export function floatValueInfo(name: string, dims: Array<number | string>): onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));

  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } },
  };
}

/** Serialises a model; the result is what ONNX Runtime loads and what the cache stores. */
export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
