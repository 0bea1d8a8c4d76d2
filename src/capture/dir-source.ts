import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { isImageFile } from '../preprocess/sniff';
import { EdgePotholeError } from '../util/errors';
import { stageLogger } from '../util/logger';
import type { Frame, FrameSource } from './source';

/**
 * Replays the image files of a folder (and its sub-folders) in name order, as a camera would
 * deliver them: a test drive recorded as photos, or the shipped samples for the demo.
 */
export class DirectorySource implements FrameSource {
  readonly description: string;
  private index = 0;

  private constructor(private readonly files: string[], description: string,
    private readonly loop: boolean) {
    this.description = description;
  }

  /** One image file as a one-frame source (`image:FILE`), replayed forever with `loop`. */
  static async openFile(file: string, loop: boolean): Promise<DirectorySource> {
    const resolved = path.resolve(file);
    if (!(await isImageFile(resolved).catch(() => false))) {
      throw new EdgePotholeError('EP_SOURCE_INVALID',
        `source image:${file} is not a readable image file; give a JPEG/PNG/WebP file`);
    }
    return new DirectorySource([resolved], `image:${resolved}`, loop);
  }

  static async open(dir: string, loop: boolean): Promise<DirectorySource> {
    const root = path.resolve(dir);
    let names: string[];
    try {
      names = (await readdir(root, { recursive: true })).map(String).sort();
    } catch (err) {
      throw new EdgePotholeError('EP_SOURCE_INVALID',
        `source dir:${dir} cannot be read (${(err as NodeJS.ErrnoException).code}); ` +
          'give a folder of images',
        { cause: err });
    }

    const files: string[] = [];
    for (const name of names) {
      const file = path.join(root, name);
      const hidden = path.basename(name).startsWith('.');
      if (!hidden && (await isImageFile(file).catch(() => false))) files.push(file);
    }
    if (files.length === 0) {
      throw new EdgePotholeError('EP_SOURCE_INVALID',
        `source dir:${dir} contains no image files; give a folder of JPEG/PNG/WebP images`);
    }
    stageLogger('capture').info({ source: `dir:${root}`, files: files.length, loop },
      'replaying images');

    return new DirectorySource(files, `dir:${root}`, loop);
  }

  async next(): Promise<Frame | undefined> {
    if (this.index >= this.files.length) {
      if (!this.loop) return undefined;
      this.index = 0;
    }

    const file = this.files[this.index++];
    const data = await readFile(file);

    return { data, capturedAt: new Date(), source: file };
  }

  async close(): Promise<void> {
    this.index = this.files.length;
  }
}
