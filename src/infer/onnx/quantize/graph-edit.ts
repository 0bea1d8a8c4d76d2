import { onnx } from 'onnx-proto';

/**
 * Small helpers for rewriting an ONNX graph in memory (the exporter's model object, before
 * it is serialised): typed access to initializers and to who produces and reads each value.
 */

const DataType = onnx.TensorProto.DataType;

/** The float32 values of an initializer the exporter wrote as raw little-endian bytes. */
export function readFloats(tensor: onnx.ITensorProto): Float32Array {
  const raw = tensor.rawData;
  if (tensor.dataType !== DataType.FLOAT || !raw) {
    throw new Error(`initializer ${tensor.name} is not raw float32 data`);
  }

  // A copy, so the values are aligned whatever the byte offset of the raw data.
  return new Float32Array(raw.slice().buffer);
}

/** An initializer of any numeric type from a typed array, as raw little-endian bytes. */
export function rawInitializer(
  name: string,
  dims: number[],
  dataType: number,
  values: Float32Array | Int8Array | Uint8Array | Int32Array,
): onnx.ITensorProto {
  const rawData = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

  return { name, dims, dataType, rawData };
}

/** Initializers by name; the graph's own array is rebuilt from it by `setInitializers`. */
export function initializerMap(graph: onnx.IGraphProto): Map<string, onnx.ITensorProto> {
  return new Map((graph.initializer ?? []).map((tensor) => [tensor.name as string, tensor]));
}

/** Replaces the graph's initializers, keeping only those some node still reads. */
export function setInitializers(
  graph: onnx.IGraphProto,
  initializers: Map<string, onnx.ITensorProto>,
): void {
  const read = new Set((graph.node ?? []).flatMap((node) => node.input ?? []));
  graph.initializer = [...initializers.values()]
    .filter((tensor) => read.has(tensor.name as string));
}

/** The node writing each value. */
export function producers(graph: onnx.IGraphProto): Map<string, onnx.INodeProto> {
  const map = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) {
    for (const output of node.output ?? []) map.set(output, node);
  }

  return map;
}

/** The nodes reading each value. */
export function consumers(graph: onnx.IGraphProto): Map<string, onnx.INodeProto[]> {
  const map = new Map<string, onnx.INodeProto[]>();
  for (const node of graph.node ?? []) {
    for (const input of node.input ?? []) map.set(input, [...(map.get(input) ?? []), node]);
  }

  return map;
}

/** A float attribute's value, or `fallback` when the node does not set it. */
export function floatAttribute(node: onnx.INodeProto, name: string, fallback: number): number {
  const found = (node.attribute ?? []).find((attribute) => attribute.name === name);

  return found?.f ?? fallback;
}
