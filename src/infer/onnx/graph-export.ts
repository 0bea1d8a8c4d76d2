import type { onnx } from 'onnx-proto';

import { EdgePotholeError } from '../../util/errors';
import { bottleneckLayers, type LoadedBackbone } from '../backbone';
import { headHash, type SoftmaxHead } from '../head';
import type { tf } from '../tf-backend';
import { LAYER_BUILDERS, unsupported, type ExportContext } from './layer-builders';
import {
  encodeModel,
  floatTensor,
  floatValueInfo,
  intAttr,
  intsAttr,
  IR_VERSION,
  node,
  OPSET_VERSION,
} from './proto';
import type { GraphWeights } from './weight-storage';

/**
 * Translates the Keras backbone (as loaded by TensorFlow.js) into an ONNX graph that ONNX
 * Runtime runs about ten times faster than tfjs-wasm. Only the layers the bottleneck layer
 * depends on are exported, followed by the same global average pool the feature model uses.
 */

type Layer = tf.layers.Layer;

/** Graph input: NHWC float32 frames already normalised to [-1, 1], any batch size. */
export const INPUT_NAME = 'input';
/** Graph output: pooled bottleneck features [N, featureLength]. */
export const FEATURES_NAME = 'features';
/** Graph output when a head is baked in: class probabilities [N, classes]. */
export const SCORES_NAME = 'scores';

/**
 * Bumped whenever the exporter would write a different graph for the same weights, so that
 * graphs cached by an older exporter are not reused.
 */
export const EXPORT_FORMAT_VERSION = 1;

/** Throws EP_MODEL_INVALID unless `head` fits features of `featureLength` values. */
export function checkHeadShape(head: SoftmaxHead, featureLength: number): void {
  const problems: string[] = [];
  if (head.featureLength !== featureLength) {
    problems.push(`featureLength is ${head.featureLength}, the backbone gives ${featureLength}`);
  }
  if (!Number.isInteger(head.classes) || head.classes < 1) {
    problems.push(`classes is ${head.classes}, expected a positive integer`);
  }
  if (head.kernel.length !== head.featureLength * head.classes) {
    problems.push(`kernel has ${head.kernel.length} values, expected featureLength x classes`);
  }
  if (head.bias.length !== head.classes) {
    problems.push(`bias has ${head.bias.length} values, expected ${head.classes}`);
  }
  if (problems.length > 0) {
    throw new EdgePotholeError(
      'EP_MODEL_INVALID',
      `the model head does not fit: ${problems.join('; ')}`,
    );
  }
}

function layerNamed(model: tf.LayersModel, layerName: string): Layer {
  try {
    return model.getLayer(layerName);
  } catch (err) {
    throw new EdgePotholeError(
      'EP_BACKBONE_UNAVAILABLE',
      `backbone layer "${layerName}" does not exist in the model; use e.g. mixed8, mixed9, mixed10`,
      { cause: err },
    );
  }
}

/** The bottleneck layers and every layer they depend on, inputs first. */
function layersUpTo(model: tf.LayersModel, layerNames: string[]): Layer[] {
  const needed = new Set<string>();
  const pending = layerNames.map((name) => layerNamed(model, name));
  while (pending.length > 0) {
    const layer = pending.pop() as Layer;
    if (needed.has(layer.name)) continue;
    // A layer applied twice has two inbound nodes and would need one ONNX value per use.
    if (layer.inboundNodes.length !== 1) {
      throw unsupported(layer, `it is used ${layer.inboundNodes.length} times in the model`);
    }
    needed.add(layer.name);
    pending.push(...layer.inboundNodes[0].inboundLayers);
  }

  // model.layers is already in topological order.
  return model.layers.filter((layer) => needed.has(layer.name));
}

/** Input layer NHWC -> NCHW, then one builder per layer, ending at the bottleneck layer. */
function exportLayers(layers: Layer[], ctx: ExportContext): void {
  for (const layer of layers) {
    const className = layer.getClassName();
    const inputs = layer.inboundNodes[0].inboundLayers.map((inbound) => inbound.name);
    if (className === 'InputLayer') {
      ctx.nodes.push(
        node('Transpose', `${layer.name}/Transpose`, [INPUT_NAME], [layer.name], [
          intsAttr('perm', [0, 3, 1, 2]),
        ]),
      );
      continue;
    }

    const build = LAYER_BUILDERS[className];
    if (!build) throw unsupported(layer, `the exporter has no builder for ${className}`);
    build(layer, inputs, ctx);
  }
}

/** features -> Gemm(kernel, bias) -> Softmax over the classes. */
function exportHead(head: SoftmaxHead, ctx: ExportContext): void {
  ctx.initializers.push(
    floatTensor('head/kernel', [head.featureLength, head.classes], head.kernel),
    floatTensor('head/bias', [head.classes], head.bias),
  );
  ctx.nodes.push(
    node('Gemm', 'head/Gemm', [FEATURES_NAME, 'head/kernel', 'head/bias'], ['head/logits']),
    node('Softmax', 'head/Softmax', ['head/logits'], [SCORES_NAME], [intAttr('axis', 1)]),
  );
}

/** The model around the emitted nodes: typed input and outputs, opset, provenance. */
function assemble(
  loaded: LoadedBackbone,
  head: SoftmaxHead | undefined,
  ctx: ExportContext,
): onnx.IModelProto {
  const { identity, fullModel } = loaded;
  const [, height, width, channels] = fullModel.inputs[0].shape as number[];
  const outputs = [floatValueInfo(FEATURES_NAME, ['N', identity.featureLength])];
  if (head) outputs.push(floatValueInfo(SCORES_NAME, ['N', head.classes]));

  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'edge-pothole',
    producerVersion: String(EXPORT_FORMAT_VERSION),
    graph: {
      name: `${identity.name}-${identity.layer}`,
      node: ctx.nodes,
      initializer: ctx.initializers,
      input: [floatValueInfo(INPUT_NAME, ['N', height, width, channels])],
      output: outputs,
    },
    metadataProps: [
      { key: 'backbone', value: identity.package },
      { key: 'fingerprint', value: identity.fingerprint },
      { key: 'head', value: head ? headHash(head) : 'none' },
      { key: 'weights', value: ctx.weights },
    ],
  };
}

/**
 * The ONNX model for `loaded` as an object (see exportBackboneToOnnx), for callers that
 * rewrite it before it is serialised (int8 quantisation).
 */
export function buildOnnxModel(
  loaded: LoadedBackbone,
  head?: SoftmaxHead,
  weights: GraphWeights = 'float32',
): onnx.IModelProto {
  const { identity, fullModel } = loaded;
  const inputs = fullModel.inputs.length;
  if (inputs !== 1) {
    throw new EdgePotholeError(
      'EP_ENGINE_UNAVAILABLE',
      `cannot export a backbone with ${inputs} inputs to ONNX; expected 1 image input`,
    );
  }
  if (head) checkHeadShape(head, identity.featureLength);

  const ctx: ExportContext = { nodes: [], initializers: [], weights };
  const layerNames = bottleneckLayers(identity.layer);
  exportLayers(layersUpTo(fullModel, layerNames), ctx);

  // One global average pool per bottleneck layer, side by side on the channel axis (NCHW).
  const pooled = layerNames.map((name) => `features/${name}/pooled`);
  layerNames.forEach((name, i) => {
    const pool = node('GlobalAveragePool', `features/${name}/GlobalAveragePool`, [name],
      [pooled[i]]);
    ctx.nodes.push(pool);
  });
  if (pooled.length > 1) {
    const axis = [intAttr('axis', 1)];
    ctx.nodes.push(node('Concat', 'features/Concat', pooled, ['features/pooled'], axis));
  }
  const flattenInput = pooled.length > 1 ? 'features/pooled' : pooled[0];
  ctx.nodes.push(
    node('Flatten', 'features/Flatten', [flattenInput], [FEATURES_NAME], [intAttr('axis', 1)]),
  );
  if (head) exportHead(head, ctx);

  return assemble(loaded, head, ctx);
}

/**
 * Builds the ONNX model for `loaded` (input `input` [N, H, W, 3] NHWC in [-1, 1]; output
 * `features` [N, featureLength]) and, with a head, the output `scores` [N, classes] =
 * softmax(features x kernel + bias). Returns the serialised model (63 MB for mixed9, 87 MB
 * for mixed10, about a quarter of that with `weights` uint8; see weight-storage.ts).
 *
 * Throws EP_BACKBONE_UNAVAILABLE for a missing bottleneck layer, EP_ENGINE_UNAVAILABLE naming
 * the layer and class for anything it cannot translate, EP_MODEL_INVALID for a head that
 * does not fit the features.
 */
export function exportBackboneToOnnx(
  loaded: LoadedBackbone,
  head?: SoftmaxHead,
  weights: GraphWeights = 'float32',
): Uint8Array {
  return encodeModel(buildOnnxModel(loaded, head, weights));
}
