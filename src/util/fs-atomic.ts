import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** A sibling path that no other writer uses, for write-then-rename. */
export function temporarySibling(target: string): string {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;

  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${suffix}`);
}

/**
 * Writes a file so that readers see the old content or the new, never half of it: temp file,
 * fsync, rename. An interrupted run (Ctrl-C, or a power cut, the usual way a vehicle switches
 * off) leaves at most a stray temp file.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });

  const temp = temporarySibling(target);
  try {
    const handle = await open(temp, 'w', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
