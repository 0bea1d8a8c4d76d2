/**
 * Image formats recognised by their first bytes, so a PNG named .jpg is read as a PNG and a
 * text file named .jpg is skipped. Covers what sharp's prebuilt libvips decodes.
 */
const SIGNATURES: Array<{ format: string; test: (b: Buffer) => boolean }> = [
  { format: 'jpeg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { format: 'png', test: (b) => b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')) },
  { format: 'gif', test: (b) => b.subarray(0, 4).toString('latin1') === 'GIF8' },
  {
    format: 'webp',
    test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' &&
      b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
  {
    format: 'tiff',
    test: (b) => ['49492a00', '4d4d002a'].includes(b.subarray(0, 4).toString('hex')),
  },
  {
    // AVIF and HEIF share the ISO-BMFF 'ftyp' box.
    format: 'heif',
    test: (b) => b.subarray(4, 8).toString('latin1') === 'ftyp',
  },
];

/** The image format of `head` (the first 16 bytes of a file are enough), or undefined. */
export function sniffImageFormat(head: Buffer): string | undefined {
  return SIGNATURES.find((signature) => signature.test(head))?.format;
}
