import { createHash } from 'node:crypto';
import path from 'node:path';

import { EdgePotholeError } from '../util/errors';
import { tf } from './tf-backend';

/**
 * The feature extractor: Keras Inception v3 as shipped (uint8-quantised weights) inside the
 * npm package `nsfwjs`, read from the package files, never from the network.
 *
 * Its last block (`mixed10`) and its dense top were fine-tuned by nsfwjs for another task, so
 * the default bottleneck is the global average pool of `mixed9` (2048 values), which separates
 * road photos far better. The layer is a recorded, configurable choice.
 */
export const BACKBONE_NAME = 'nsfwjs-inception-v3';
/** Measured best on road photos (docs/accuracy.md): the pools of two blocks side by side. */
export const DEFAULT_BOTTLENECK_LAYER = 'mixed8+mixed9';
export const INPUT_SIZE = 299;

export interface BackboneIdentity {
  name: string;
  /** npm package and version that supplied the weights. */
  package: string;
  /** Layer whose output is globally average-pooled into the bottleneck. */
  layer: string;
  pooling: 'global-average';
  inputSize: number;
  /** How RGB bytes become network input: x / 127.5 - 1. */
  normalization: '[-1,1]';
  featureLength: number;
  /** sha256 over topology, weights and layer: changes whenever the features would. */
  fingerprint: string;
}

export interface LoadedBackbone {
  identity: BackboneIdentity;
  /** The full nsfwjs network; exporters read its layers and weights. */
  fullModel: tf.LayersModel;
  /** Input [N, 299, 299, 3] in [-1, 1] -> pooled features [N, featureLength]. */
  featureModel: tf.LayersModel;
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

function nsfwjsRoot(): string {
  try {
    // package.json is not in nsfwjs's export map; the CommonJS entry is dist/cjs/index.js.
    return path.resolve(path.dirname(require.resolve('nsfwjs')), '..', '..');
  } catch (err) {
    throw new EdgePotholeError(
      'EP_BACKBONE_UNAVAILABLE',
      'the npm package nsfwjs (Inception v3 weights) is not installed; run "npm install"',
      { cause: err },
    );
  }
}

/** The shards are browserify bundles whose export is the base64 text of the weights. */
function readBundledModel(root: string): { json: ModelJson; weights: Buffer; version: string } {
  const dir = path.join(root, 'dist', 'models', 'inception_v3');
  const json = require(path.join(dir, 'model.min.js')) as ModelJson;
  const shards = json.weightsManifest[0].paths.map((shard) => {
    const text = require(path.join(dir, `${shard}.min.js`)) as string;

    return Buffer.from(text, 'base64');
  });
  const version = (require(path.join(root, 'package.json')) as { version: string }).version;

  return { json, weights: Buffer.concat(shards), version };
}

function fingerprintOf(json: ModelJson, weights: Buffer, layer: string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(json.modelTopology));
  hash.update(weights);
  hash.update(`layer=${layer};pool=gap;norm=[-1,1]`);

  return hash.digest('hex');
}

/**
 * The layers a bottleneck spec names: `mixed9`, or `mixed8+mixed9` for the pooled outputs of
 * two blocks side by side (more features, from a block the fine-tuning did not reach).
 */
export function bottleneckLayers(spec: string): string[] {
  return spec.split('+').map((name) => name.trim()).filter((name) => name.length > 0);
}

/**
 * Loads the backbone and builds the bottleneck model (`layer` -> global average pool).
 * Takes about a second; callers keep the result for the life of the process.
 */
export async function loadBackbone(layer = DEFAULT_BOTTLENECK_LAYER): Promise<LoadedBackbone> {
  const root = nsfwjsRoot();
  const { json, weights, version } = readBundledModel(root);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length);
  const fullModel = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weightsManifest[0].weights,
      weightData,
    }),
  );

  const pools = bottleneckLayers(layer).map((name) => {
    let output: tf.SymbolicTensor;
    try {
      output = fullModel.getLayer(name).output as tf.SymbolicTensor;
    } catch (err) {
      throw new EdgePotholeError(
        'EP_BACKBONE_UNAVAILABLE',
        `backbone layer "${name}" does not exist in Inception v3; use e.g. mixed8, mixed9, mixed10`,
        { cause: err },
      );
    }

    return tf.layers.globalAveragePooling2d({}).apply(output) as tf.SymbolicTensor;
  });
  const pooled = pools.length === 1 ? pools[0]
    : tf.layers.concatenate({ axis: -1 }).apply(pools) as tf.SymbolicTensor;
  const featureModel = tf.model({ inputs: fullModel.inputs, outputs: pooled });

  const identity: BackboneIdentity = {
    name: BACKBONE_NAME,
    package: `nsfwjs@${version}`,
    layer,
    pooling: 'global-average',
    inputSize: INPUT_SIZE,
    normalization: '[-1,1]',
    featureLength: pooled.shape[1] as number,
    fingerprint: fingerprintOf(json, weights, layer),
  };

  return { identity, fullModel, featureModel };
}
