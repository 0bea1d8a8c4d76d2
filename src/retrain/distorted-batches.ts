import type { InferenceEngine } from '../infer/engine';
import {
  applyDistortion,
  drawDistortion,
  sourceSize,
  type Distortion,
  type DistortionSettings,
  type RgbImage,
} from '../preprocess/distort';
import { describeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import { SeededRandom } from '../util/random';
import type { DatasetImage } from './dataset';
import { decodeFileNow, ENGINE_BATCH, runPipeline } from './frame-pipeline';
import { pickBatch, type LabelledVectors, type TrainingBatches } from './train';

/**
 * Decoded sources kept in memory; beyond this, photos are decoded again at each use. 512 MiB
 * holds about 1,300 sources of 362 x 362 (random_crop 10 + random_scale 10).
 */
export const DEFAULT_SOURCE_MEMORY_BYTES = 512 * 1024 * 1024;

export interface DistortedBatchesOptions {
  settings: DistortionSettings;
  /** Seed of the distortion draws (the batch picks use the trainer's generator). */
  seed: number;
  /** Bytes of decoded sources kept in memory; default DEFAULT_SOURCE_MEMORY_BYTES. */
  memoryBytes?: number;
}

/** What the distorted batches cost, for the log and the metadata. */
export interface DistortionStats {
  frames: number;
  seconds: number;
}

/**
 * retrain.py's distorted training batches: every step draws its photos, distorts each one
 * afresh and runs it through the backbone; nothing is cached but the decoded sources, since
 * a distorted bottleneck is used once. This costs one backbone pass per training example
 * (train_batch_size per step), which is why retrain.py's distortions are slow; see
 * docs/retrain.md for the figures.
 */
export class DistortedBatches implements TrainingBatches {
  readonly stats: DistortionStats = { frames: 0, seconds: 0 };
  private readonly draws: SeededRandom;
  private readonly sources = new Map<number, RgbImage>();
  private readonly sourceSide: number;

  private constructor(
    private readonly images: DatasetImage[],
    private readonly engine: InferenceEngine,
    private readonly options: DistortedBatchesOptions,
  ) {
    this.draws = new SeededRandom(options.seed);
    this.sourceSide = sourceSize(options.settings, engine.backbone.inputSize);
  }

  /**
   * Decodes every training photo once (keeping as many as the memory budget allows) and drops
   * those that cannot be decoded, each with one warning; they are returned as `skipped`.
   */
  static async create(
    images: DatasetImage[],
    engine: InferenceEngine,
    options: DistortedBatchesOptions,
  ): Promise<{ batches: DistortedBatches; skipped: Array<{ file: string; reason: string }> }> {
    const probe = new DistortedBatches([], engine, options);
    const budget = Math.floor((options.memoryBytes ?? DEFAULT_SOURCE_MEMORY_BYTES) /
      (probe.sourceSide * probe.sourceSide * 3));
    const readable: DatasetImage[] = [];
    const kept: RgbImage[] = [];
    const skipped: Array<{ file: string; reason: string }> = [];

    await runPipeline(images, (image) => probe.decode(image), async (batch) => {
      for (const { item, value, error } of batch) {
        if (!value) {
          const reason = describeError(error);
          skipped.push({ file: item.file, reason });
          stageLogger('retrain').warn({ file: item.file, err: reason }, 'image skipped');
          continue;
        }
        readable.push(item);
        if (kept.length < budget) kept.push(value);
      }
    });

    const batches = new DistortedBatches(readable, engine, options);
    kept.forEach((source, i) => batches.sources.set(i, source));

    return { batches, skipped };
  }

  get imageCount(): number {
    return this.images.length;
  }

  async next(size: number, random: SeededRandom): Promise<LabelledVectors> {
    const startedAt = performance.now();
    const picked = pickBatch(this.images.length, size, random);
    // Drawn before any await, in pick order: the same seed gives the same distortions.
    const draws = picked.map((index) => ({ index, draw: this.drawOne() }));
    const vectors: Float32Array[] = [];

    await runPipeline(draws, ({ index, draw }) => this.distorted(index, draw), async (batch) => {
      const frames = batch.map(({ value, error }) => {
        if (!value) throw error;

        return value;
      });
      vectors.push(...await this.engine.features(frames));
    }, ENGINE_BATCH);

    this.stats.frames += picked.length;
    this.stats.seconds += (performance.now() - startedAt) / 1000;

    return { vectors, labels: picked.map((index) => this.images[index].labelIndex) };
  }

  private drawOne(): Distortion {
    return drawDistortion(this.options.settings, this.engine.backbone.inputSize, this.draws);
  }

  private async decode(image: DatasetImage): Promise<RgbImage> {
    const side = this.sourceSide;
    const { pixels } = await decodeFileNow(image.file, { size: side });

    return { width: side, height: side, pixels };
  }

  private async distorted(index: number, draw: Distortion): Promise<Uint8Array> {
    const source = this.sources.get(index) ?? await this.decode(this.images[index]);

    return applyDistortion(source, draw, this.engine.backbone.inputSize);
  }
}
