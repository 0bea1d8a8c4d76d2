/**
 * RGB bytes -> the [-1, 1] floats Inception v3 was trained on (x / 127.5 - 1).
 * Pure, so both engines and the tests share one definition.
 */
export function normalizeSigned(pixels: Uint8Array, out?: Float32Array): Float32Array {
  const result = out ?? new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) result[i] = pixels[i] / 127.5 - 1;

  return result;
}

/** Several frames into one contiguous NHWC batch, as both engines take it. */
export function normalizeBatch(frames: Uint8Array[]): Float32Array {
  const frameLength = frames[0]?.length ?? 0;
  const batch = new Float32Array(frameLength * frames.length);
  frames.forEach((frame, i) => {
    if (frame.length !== frameLength) {
      throw new Error(`frame ${i} has ${frame.length} values, expected ${frameLength}`);
    }
    normalizeSigned(frame, batch.subarray(i * frameLength, (i + 1) * frameLength));
  });

  return batch;
}
