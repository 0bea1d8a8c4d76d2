import type { SeededRandom } from '../util/random';

/**
 * retrain.py's training-image distortions (`--flip_left_right`, `--random_crop`,
 * `--random_scale`, `--random_brightness`) as pure functions on decoded RGB pixels, so they
 * are tested without a model and repeat exactly for a given `--seed`.
 *
 * retrain.py resizes the decoded photo to `size * (1 + crop%) * U(1, 1 + scale%)` pixels
 * (the "precrop"), cuts a `size` x `size` window at a random place out of it, mirrors it with
 * probability 1/2, and multiplies every value by U(1 - brightness%, 1 + brightness%).
 * Here the photo is decoded once to the largest precrop any draw can ask for (the "source",
 * see `sourceSize`; sharp's resize is sharper than bilinear on big reductions), and each
 * draw resamples that source bilinearly: a reduction by at most 1 + scale%, where bilinear
 * sampling is faithful. Unlike retrain.py, which works on floats, brightness is clipped to
 * 0..255 because the engines take bytes.
 */
export interface DistortionSettings {
  /** Mirror half of the training images left to right; default false. */
  flipLeftRight: boolean;
  /** Margin, in percent of the input size, around the crop window; default 0. */
  randomCrop: number;
  /** Largest random enlargement, in percent, before cropping; default 0. */
  randomScale: number;
  /** Largest brightness change, in percent, up or down; default 0 (0..100). */
  randomBrightness: number;
}

/** An RGB image, 3 bytes per pixel, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** One random draw: everything needed to distort one image, deterministically. */
export interface Distortion {
  /** Side in pixels of the resized image the window is cut from (>= the input size). */
  precropSize: number;
  /** Window position in the precrop, in pixels. */
  left: number;
  top: number;
  flip: boolean;
  /** Factor every channel value is multiplied by. */
  brightness: number;
}

export const NO_DISTORTIONS: Readonly<DistortionSettings> = Object.freeze({
  flipLeftRight: false,
  randomCrop: 0,
  randomScale: 0,
  randomBrightness: 0,
});

/** retrain.py's should_distort_images: true when any distortion is asked for. */
export function hasDistortions(settings: DistortionSettings): boolean {
  return settings.flipLeftRight || settings.randomCrop !== 0 || settings.randomScale !== 0 ||
    settings.randomBrightness !== 0;
}

const marginScale = (s: DistortionSettings): number => 1 + s.randomCrop / 100;
const largestScale = (s: DistortionSettings): number => 1 + s.randomScale / 100;

/** Side of the source image to decode once: the largest precrop a draw can ask for. */
export function sourceSize(settings: DistortionSettings, inputSize: number): number {
  return Math.floor(inputSize * marginScale(settings) * largestScale(settings));
}

/** Draws one distortion from `random`, in a fixed order so a seed always gives the same draws. */
export function drawDistortion(
  settings: DistortionSettings,
  inputSize: number,
  random: SeededRandom,
): Distortion {
  const resizeScale = 1 + random.next() * (largestScale(settings) - 1);
  const precropSize = Math.max(inputSize,
    Math.floor(inputSize * marginScale(settings) * resizeScale));

  const left = random.int(precropSize - inputSize + 1);
  const top = random.int(precropSize - inputSize + 1);

  // random.next() is drawn even without flipping, so turning one distortion on or off does not
  // shift the draws of the others.
  const flip = random.next() < 0.5 && settings.flipLeftRight;

  const spread = settings.randomBrightness / 100;
  const brightness = 1 - spread + random.next() * 2 * spread;

  return { precropSize, left, top, flip, brightness };
}

/**
 * Source coordinate (in pixels, fractional) of precrop pixel `index`, with pixel centres at
 * +0.5 as in every modern resampler (TensorFlow's half_pixel_centers).
 */
function sourceCoordinate(index: number, precropSize: number, sourceSide: number): number {
  const mapped = (index + 0.5) * (sourceSide / precropSize) - 0.5;

  return Math.min(Math.max(mapped, 0), sourceSide - 1);
}

/** Per output column: the two source columns and the weight of the second. */
function columnTaps(d: Distortion, size: number, width: number) {
  const first = new Int32Array(size);
  const second = new Int32Array(size);
  const weight = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const windowX = d.flip ? size - 1 - x : x;
    const u = sourceCoordinate(d.left + windowX, d.precropSize, width);
    first[x] = Math.floor(u);
    second[x] = Math.min(first[x] + 1, width - 1);
    weight[x] = u - first[x];
  }

  return { first, second, weight };
}

/**
 * The `size` x `size` network input for one draw: the window `d` of the source resized to
 * `d.precropSize`, mirrored if `d.flip`, times `d.brightness`, rounded and clipped to bytes.
 * With no crop, no scale and a source of `size` x `size`, the window is the source itself.
 */
export function applyDistortion(source: RgbImage, d: Distortion, size: number): Uint8Array {
  const { width, height, pixels } = source;
  const out = new Uint8Array(size * size * 3);
  const cols = columnTaps(d, size, width);

  for (let y = 0; y < size; y++) {
    const v = sourceCoordinate(d.top + y, d.precropSize, height);
    const row0 = Math.floor(v);
    const row1 = Math.min(row0 + 1, height - 1);
    const wy = v - row0;

    for (let x = 0; x < size; x++) {
      const a = (row0 * width + cols.first[x]) * 3;
      const b = (row0 * width + cols.second[x]) * 3;
      const c = (row1 * width + cols.first[x]) * 3;
      const e = (row1 * width + cols.second[x]) * 3;
      const wx = cols.weight[x];
      const o = (y * size + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = pixels[a + ch] + (pixels[b + ch] - pixels[a + ch]) * wx;
        const bottom = pixels[c + ch] + (pixels[e + ch] - pixels[c + ch]) * wx;
        const value = Math.round((top + (bottom - top) * wy) * d.brightness);
        // A Uint8Array wraps 256 round to 0 (only Uint8ClampedArray clips): clip here.
        out[o + ch] = value > 255 ? 255 : value < 0 ? 0 : value;
      }
    }
  }

  return out;
}
