import type { EngineChoice, EngineOptions, InferenceEngine } from '../infer/engine';
import type { DistortionSettings } from '../preprocess/distort';
import type { InterruptGuard } from './interrupt-guard';
import type { TrainOptions } from './train';

/**
 * Everything `retrain` is told; the CLI (src/cli/retrain.ts) maps retrain.py's flags onto it
 * and documents the defaults.
 */
export interface RetrainOptions extends TrainOptions {
  /** One sub-folder of photos per class. */
  imageDir: string;
  /** The model directory to write (atomically). */
  outputDir: string;
  /** Bottleneck cache, keyed by image content and backbone fingerprint. */
  bottleneckDir: string;
  testingPercentage: number;
  validationPercentage: number;
  /** Test images to score, -1 = all. */
  testBatchSize: number;
  /** Train with fewer than 20 photos in a class (at least one per set is still needed). */
  allowSmallClasses: boolean;
  printMisclassified: boolean;
  engine: EngineChoice;
  /** ONNX Runtime threads; default: the number of cores. */
  threads?: number;
  /** Backbone layer pooled into the bottleneck. */
  layer: string;
  /** Name of the output layer in model.json (retrain.py --final_tensor_name); final_result. */
  finalTensorName?: string;
  /** Also write the labels here (retrain.py --output_labels); default: only in the model dir. */
  outputLabels?: string;
  /** TensorBoard event files go here when tfjs-node is active (retrain.py --summaries_dir). */
  summariesDir?: string;
  /** True when the user named summariesDir: a missing tfjs-node is then a warning. */
  summariesExplicit?: boolean;
  /** Where intermediate models go (intermediate_<step>/) with intermediateStoreFrequency > 0. */
  intermediateOutputGraphsDir?: string;
  /** Fit a temperature on the validation set and fold it into the head; default true. */
  calibrate?: boolean;
  /** retrain.py's distortions; none by default. */
  distortions?: DistortionSettings;
  /** Export the whole network as ONNX here (retrain.py --saved_model_dir); default none. */
  savedModelDir?: string;
  /** Holds off Ctrl-C while a model directory is written (see interrupt-guard.ts). */
  guard?: Pick<InterruptGuard, 'whileWriting'>;
  /** Builds the engine; default createEngine. Tests pass a small one. */
  engineFactory?: (options: EngineOptions) => Promise<InferenceEngine>;
  /** Where the human-readable report goes; default stdout. */
  out?: NodeJS.WritableStream;
}
