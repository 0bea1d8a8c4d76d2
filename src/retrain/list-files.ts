import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export interface Listing {
  /** Regular files, '/'-separated and relative to the listed folder, in name order. */
  files: string[];
  /** Entries that could not be followed: broken symbolic links, unreadable folders. */
  broken: string[];
  /**
   * Folders not listed because their real path was already listed: a symbolic link loop, or a
   * second link to the same folder (listing it twice would put the same photos in two sets).
   */
  repeated: string[];
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Every non-hidden file below `dir`, following symbolic links to files and folders (data sets
 * are often assembled from links into other folders). Each real folder is listed once, which
 * is also what stops a link loop. `seen` holds the real paths of folders listed (or reserved:
 * the class folders, so a link from one class into another is not read as the first class);
 * `dir` itself is always listed.
 */
export async function listFiles(dir: string, seen = new Set<string>()): Promise<Listing> {
  const listing: Listing = { files: [], broken: [], repeated: [] };
  await walk(dir, '', seen, listing);
  listing.files.sort(byName);

  return listing;
}

async function walk(dir: string, prefix: string, seen: Set<string>, out: Listing): Promise<void> {
  const real = await realpath(dir).catch(() => undefined);
  if (real === undefined) {
    out.broken.push(dir);

    return;
  }
  if (prefix !== '' && seen.has(real)) {
    out.repeated.push(dir);

    return;
  }
  seen.add(real);

  const entries = await readdir(dir).catch(() => undefined);
  if (!entries) {
    out.broken.push(dir);

    return;
  }

  for (const name of entries.filter((entry) => !entry.startsWith('.')).sort(byName)) {
    const full = path.join(dir, name);
    const relative = prefix ? `${prefix}/${name}` : name;
    const info = await stat(full).catch(() => undefined);

    if (!info) out.broken.push(full);
    else if (info.isDirectory()) await walk(full, relative, seen, out);
    else if (info.isFile()) out.files.push(relative);
  }
}
