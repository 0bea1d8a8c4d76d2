/**
 * Refuses frames that are not `size` x `size` RGB bytes before they reach a backend, whose
 * own error for a wrong shape would name neither the frame nor the expected size.
 */
export function assertFrameSizes(frames: Uint8Array[], size: number): void {
  const frameLength = size * size * 3;
  const bad = frames.findIndex((frame) => frame.length !== frameLength);
  if (bad < 0) return;

  const received = frames[bad].length;
  throw new Error(
    `frame ${bad} has ${received} bytes, expected ${frameLength} (${size}x${size} RGB); ` +
      'prepare frames with preprocess/image.ts at the backbone input size',
  );
}
