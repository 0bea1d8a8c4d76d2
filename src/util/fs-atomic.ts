import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A sibling path that no other writer uses, for write-then-rename. */
export function temporarySibling(target: string): string {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;

  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${suffix}`);
}

/**
 * Writes a file so that readers see the old content or the new, never half of it: an
 * interrupted run (Ctrl-C, power loss mid-write) leaves at most a stray temp file.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });

  const temp = temporarySibling(target);
  try {
    await writeFile(temp, data);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
