import type { BackboneIdentity } from '../../src/infer/backbone';
import type { InferenceEngine } from '../../src/infer/engine';
import { applyHead, type SoftmaxHead } from '../../src/infer/head';

/**
 * A stand-in for the backbone in retrain tests: the features of a frame are the mean of each
 * colour channel in each quadrant (12 values in [-1, 1]). It is a pure function of the pixels,
 * so a cache, a split or a distortion shows in the features exactly as with Inception v3, in
 * microseconds instead of 50 ms a frame. It counts the frames and calls it sees.
 */
export class PixelEngine implements InferenceEngine {
  readonly engine = 'onnxruntime' as const;
  readonly backend = 'test-pixels';
  readonly threads = 1;
  readonly workers = 1;
  readonly backbone: BackboneIdentity;
  frames = 0;
  calls: number[] = [];
  disposed = false;
  private head: SoftmaxHead | undefined;

  constructor(inputSize = 299, fingerprint = 'pixel-quadrant-means-v1') {
    this.backbone = {
      name: 'test-pixel-engine',
      package: 'none',
      layer: 'quadrants',
      pooling: 'global-average',
      inputSize,
      normalization: '[-1,1]',
      featureLength: 12,
      fingerprint: fingerprint.padEnd(64, '0'),
    };
  }

  async features(frames: Uint8Array[]): Promise<Float32Array[]> {
    this.frames += frames.length;
    this.calls.push(frames.length);

    return frames.map((frame) => quadrantMeans(frame, this.backbone.inputSize));
  }

  async scores(frames: Uint8Array[]): Promise<Float32Array[]> {
    const head = this.head;
    if (!head) throw new Error('no head');

    return (await this.features(frames)).map((features) => applyHead(head, features));
  }

  async setHead(head: SoftmaxHead): Promise<void> {
    this.head = head;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

/** Mean of each channel over each quadrant, scaled like the network input to [-1, 1]. */
export function quadrantMeans(frame: Uint8Array, size: number): Float32Array {
  const sums = new Float64Array(12);
  const half = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const quadrant = (y < half ? 0 : 2) + (x < half ? 0 : 1);
      const at = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) sums[quadrant * 3 + c] += frame[at + c];
    }
  }
  const perQuadrant = (size * size) / 4;

  return Float32Array.from(sums, (sum) => sum / perQuadrant / 127.5 - 1);
}
