import { open } from 'node:fs/promises';

/**
 * Image formats recognised by their first bytes, so a PNG named .jpg is read as a PNG and a
 * text file named .jpg is skipped. Covers what sharp's prebuilt libvips decodes.
 */

/**
 * ISO-BMFF major brands of still images (AVIF, HEIF and their sequences). MP4 and QuickTime
 * files start with the same 'ftyp' box but with brands such as isom, mp42 or qt: those are
 * videos, and a dashcam clip in a class folder must not count as a photo.
 */
const IMAGE_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'mif1', 'msf1']);

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
    format: 'heif',
    test: (b) => b.subarray(4, 8).toString('latin1') === 'ftyp' &&
      IMAGE_BRANDS.has(b.subarray(8, 12).toString('latin1')),
  },
];

/** The image format of `head` (the first 16 bytes of a file are enough), or undefined. */
export function sniffImageFormat(head: Buffer): string | undefined {
  return SIGNATURES.find((signature) => signature.test(head))?.format;
}

/** True when the file's first bytes are those of an image format sharp decodes. */
export async function isImageFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);

    return sniffImageFormat(head.subarray(0, bytesRead)) !== undefined;
  } finally {
    await handle.close();
  }
}
