import { createHash } from 'node:crypto';

export type DataSet = 'training' | 'validation' | 'testing';

/** retrain.py's bucket count: sets stay stable however many images are added. */
const MAX_IMAGES_PER_CLASS = 2 ** 27 - 1;

/**
 * Which set an image belongs to, from a hash of its path *relative to the image dir* (as
 * retrain.py does with the whole path, which reshuffles the sets when the folder moves).
 * Anything after `_nohash_` in the file name is ignored, so variants of one photo
 * (`car_nohash_1.jpg`, `car_nohash_2.jpg`) land in the same set.
 */
export function assignSet(
  relativePath: string,
  validationPercentage: number,
  testingPercentage: number,
): DataSet {
  const posix = relativePath.split('\\').join('/').normalize('NFC');
  const hashName = posix.replace(/_nohash_.*$/, '');
  const digest = createHash('sha1').update(hashName, 'utf8').digest();

  // 27 bits of the hash are enough for MAX_IMAGES_PER_CLASS buckets.
  const bucket = digest.readUInt32BE(0) % (MAX_IMAGES_PER_CLASS + 1);
  const percentage = bucket * (100 / MAX_IMAGES_PER_CLASS);

  if (percentage < validationPercentage) return 'validation';
  if (percentage < validationPercentage + testingPercentage) return 'testing';

  return 'training';
}
