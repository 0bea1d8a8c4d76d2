import { readdir, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';

import * as ort from 'onnxruntime-node';

import { EdgePotholeError } from '../../util/errors';
import { writeFileAtomic } from '../../util/fs-atomic';
import { stageLogger } from '../../util/logger';
import type { BackboneIdentity, LoadedBackbone } from '../backbone';
import { defaultCacheDir } from '../cache-dir';
import { headHash, type SoftmaxHead } from '../head';
import { checkExport, DEFAULT_TOLERANCE, type ExportCheck } from './graph-check';
import {
  buildOnnxModel,
  checkHeadShape,
  EXPORT_FORMAT_VERSION,
  exportBackboneToOnnx,
  FEATURES_NAME,
  SCORES_NAME,
} from './graph-export';
import { calibrationFrames } from './quantize/calibration-photos';
import { quantiseModel, type QuantisationCheck } from './quantize/quantise';
import type { GraphWeights } from './weight-storage';

/**
 * Exported graphs on disk, one file per backbone fingerprint, head and exporter version, so a
 * restart loads the graph in well under a second instead of exporting and checking it again.
 * Each graph is 60-90 MB (mixed9: 63 MB), so only the few most recently used are kept.
 */

/** Graphs kept in the cache directory by default, the one in use included. */
export const DEFAULT_KEEP_GRAPHS = 3;

/** Temp files older than this are left over from a crash, not being written. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** Matches the names `graphFileName` produces, so pruning never touches other files. */
const GRAPH_FILE = /^[\w.-]+-[0-9a-f]{16}-(?:[0-9a-f]{16}|nohead)-x\d+(?:u8|f16|i8)?\.onnx$/;

/** File name suffix per weight storage; float32 has none, so its older names stay valid. */
const WEIGHTS_SUFFIX: Record<GraphWeights, string> = {
  float32: '',
  uint8: 'u8',
  float16: 'f16',
  int8: 'i8',
};

export interface GraphCacheOptions {
  /** Directory holding exported graphs; default `defaultCacheDir()`. */
  cacheDir?: string;
  /** Graphs kept in `cacheDir`, the one in use included; the least recently used go. Default 3. */
  keep?: number;
  /** Largest accepted |ONNX - tfjs| difference when a graph is built; default 1e-3. */
  tolerance?: number;
  /** Handed to ONNX Runtime for the session: threads, execution provider. */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** How the graph stores convolution weights; default `float32`. */
  weights?: GraphWeights;
  /** Photos int8 ranges are measured on; default the repository's samples/. */
  calibrationFrames?: (size: number) => Promise<Uint8Array[]>;
}

export interface PreparedGraph {
  session: ort.InferenceSession;
  /** The cached file; undefined when the cache directory could not be written. */
  file: string | undefined;
  /** True when loaded from the cache, false when exported and checked just now. */
  fromCache: boolean;
  /** The build-time comparison with TensorFlow.js; only present when built. */
  check?: ExportCheck;
  /** int8 only, when built: the int8 features against the float graph's on real photos. */
  quantisation?: QuantisationCheck;
}

/**
 * `<backbone>-<layer>-<fingerprint>-<head hash | nohead>-x<exporter version>[u8|f16].onnx`
 */
export function graphFileName(
  identity: BackboneIdentity,
  head?: SoftmaxHead,
  weights: GraphWeights = 'float32',
): string {
  const headKey = head ? headHash(head).slice(0, 16) : 'nohead';
  const fingerprint = identity.fingerprint.slice(0, 16);

  const version = `x${EXPORT_FORMAT_VERSION}${WEIGHTS_SUFFIX[weights]}`;

  return `${identity.name}-${identity.layer}-${fingerprint}-${headKey}-${version}.onnx`;
}

async function loadCached(
  file: string,
  head: SoftmaxHead | undefined,
  sessionOptions: ort.InferenceSession.SessionOptions,
): Promise<PreparedGraph | undefined> {
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, sessionOptions);
  } catch (err) {
    stageLogger('infer').warn({ file, err }, 'cached onnx graph unreadable, rebuilding');

    return undefined;
  }
  const expected = head ? [FEATURES_NAME, SCORES_NAME] : [FEATURES_NAME];
  if (expected.some((name) => !session.outputNames.includes(name))) {
    await session.release();
    const outputs = session.outputNames;
    stageLogger('infer').warn({ file, outputs }, 'cached onnx graph unusable, rebuilding');

    return undefined;
  }

  // The modification time records the last use, so pruning drops the longest unused graphs.
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
  stageLogger('infer').info({ file }, 'onnx graph loaded from cache');

  return { session, file, fromCache: true };
}

/**
 * Temp file, fsync, rename: a power cut (the usual way a vehicle switches off) leaves either
 * the old state or the whole graph, never half a file under the final name. Returns undefined
 * when the directory cannot be written; the graph then lives in memory for this run only.
 */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<string | undefined> {
  try {
    await writeFileAtomic(file, bytes);

    return file;
  } catch (err) {
    stageLogger('infer').warn({ file, err }, 'onnx graph cache not writable, graph kept in memory');

    return undefined;
  }
}

/** Deletes graphs beyond the `keep` most recently used, and crash-left temp files. */
async function pruneCache(dir: string, keep: number, current: string): Promise<void> {
  const graphs: Array<{ file: string; mtimeMs: number }> = [];
  const removed: string[] = [];
  try {
    for (const name of await readdir(dir)) {
      const file = path.join(dir, name);
      const isGraph = GRAPH_FILE.test(name);
      const isTemp = name.endsWith('.tmp') && GRAPH_FILE.test(name.replace(/\.[\w-]+\.tmp$/, ''));
      if (file === current || (!isGraph && !isTemp)) continue;

      const { mtimeMs } = await stat(file);
      if (isGraph) graphs.push({ file, mtimeMs });
      if (isTemp && Date.now() - mtimeMs > STALE_TEMP_MS) removed.push(file);
    }
    graphs.sort((a, b) => b.mtimeMs - a.mtimeMs);
    removed.push(...graphs.slice(Math.max(0, keep - 1)).map((graph) => graph.file));

    for (const file of removed) await unlink(file);
  } catch (err) {
    stageLogger('infer').warn({ dir, err }, 'onnx graph cache prune failed');

    return;
  }

  if (removed.length > 0) stageLogger('infer').info({ dir, removed }, 'onnx graph cache pruned');
}

/** Exports `weights` storage (float32 for int8) and checks it against TensorFlow.js. */
async function exportChecked(
  loaded: LoadedBackbone,
  head: SoftmaxHead | undefined,
  weights: GraphWeights,
  options: GraphCacheOptions,
): Promise<{ bytes: Uint8Array; session: ort.InferenceSession; check: ExportCheck }> {
  const bytes = exportBackboneToOnnx(loaded, head, weights);
  const session = await ort.InferenceSession.create(bytes, options.sessionOptions ?? {});
  try {
    const check = await checkExport(session, loaded, head, options.tolerance ?? DEFAULT_TOLERANCE);

    return { bytes, session, check };
  } catch (err) {
    await session.release();
    throw err;
  }
}

/**
 * The float graph, checked against TensorFlow.js, then quantised to int8 with ranges from
 * real photos and checked against itself on them (see quantize/quantise.ts).
 */
async function exportInt8(
  loaded: LoadedBackbone,
  head: SoftmaxHead | undefined,
  options: GraphCacheOptions,
) {
  const float = await exportChecked(loaded, head, 'float32', options);
  await float.session.release();

  const size = loaded.identity.inputSize;
  const frames = await (options.calibrationFrames ?? calibrationFrames)(size);
  const { bytes, check } = await quantiseModel(buildOnnxModel(loaded, head), frames, size);
  const session = await ort.InferenceSession.create(bytes, options.sessionOptions ?? {});

  return { bytes, session, check: float.check, quantisation: check };
}

async function buildGraph(
  loaded: LoadedBackbone,
  head: SoftmaxHead | undefined,
  file: string,
  options: GraphCacheOptions,
): Promise<PreparedGraph> {
  const started = Date.now();
  const { bytes, session, check, quantisation } = options.weights === 'int8'
    ? await exportInt8(loaded, head, options)
    : { ...(await exportChecked(loaded, head, options.weights ?? 'float32', options)),
      quantisation: undefined };

  // A graph that failed the check never reaches the disk, so it cannot be loaded later.
  const written = await writeAtomically(file, bytes);
  if (written) await pruneCache(path.dirname(file), options.keep ?? DEFAULT_KEEP_GRAPHS, file);
  stageLogger('infer').info(
    {
      file: written,
      layer: loaded.identity.layer,
      head: head ? headHash(head).slice(0, 16) : 'none',
      weights: options.weights ?? 'float32',
      bytes: bytes.length,
      maxAbsDiff: check.maxAbsDiff,
      scoresMaxAbsDiff: check.scoresMaxAbsDiff,
      tolerance: options.tolerance ?? DEFAULT_TOLERANCE,
      int8MinCosine: quantisation?.minCosine,
      buildMs: Date.now() - started,
    },
    'onnx graph built',
  );

  return { session, file: written, fromCache: false, check, quantisation };
}

/**
 * Opens an ONNX Runtime session for `loaded` with `head` baked in: from the cache when a
 * graph for the same backbone fingerprint, head and exporter version is there, otherwise
 * exported, checked against TensorFlow.js (EP_EXPORT_MISMATCH above `tolerance`), then
 * cached. The caller owns the session and releases it.
 */
export async function prepareGraph(
  loaded: LoadedBackbone,
  head: SoftmaxHead | undefined,
  options: GraphCacheOptions = {},
): Promise<PreparedGraph> {
  const keep = options.keep ?? DEFAULT_KEEP_GRAPHS;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new EdgePotholeError(
      'EP_CONFIG_INVALID',
      `keep must be an integer >= 1, received ${JSON.stringify(keep)}`,
    );
  }
  if (head) checkHeadShape(head, loaded.identity.featureLength);

  const dir = options.cacheDir ?? defaultCacheDir();
  const file = path.join(dir, graphFileName(loaded.identity, head, options.weights));
  const cached = await loadCached(file, head, options.sessionOptions ?? {});
  if (cached) return cached;

  return buildGraph(loaded, head, file, options);
}
