/**
 * Cuts ffmpeg's MJPEG pipe (`-f image2pipe -c:v mjpeg`) into whole JPEG files. Each frame
 * runs from the SOI marker (FF D8) to the EOI marker (FF D9); JPEG's byte stuffing keeps
 * FF D9 out of the entropy-coded data, and ffmpeg writes no thumbnails, so the first EOI
 * after an SOI ends the frame.
 */

/** Largest frame accepted, bytes: a pipe carrying something else must not grow forever. */
const MAX_FRAME_BYTES = 32 * 1024 * 1024;

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

export class MjpegSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes thrown away: outside any frame, or frames over MAX_FRAME_BYTES. */
  discardedBytes = 0;

  /** Adds a chunk from the pipe; returns the frames it completed, in order. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];

    for (;;) {
      const start = this.pending.indexOf(SOI);
      if (start < 0) {
        this.discard(this.pending.length - 1);
        break;
      }
      if (start > 0) this.discard(start);

      const end = this.pending.indexOf(EOI, 2);
      if (end < 0) {
        if (this.pending.length > MAX_FRAME_BYTES) this.discard(this.pending.length);
        break;
      }
      frames.push(Buffer.from(this.pending.subarray(0, end + 2)));
      this.pending = this.pending.subarray(end + 2);
    }

    return frames;
  }

  /** Drops the first `count` pending bytes (a lone trailing FF may start the next SOI). */
  private discard(count: number): void {
    if (count <= 0) return;

    this.discardedBytes += count;
    this.pending = this.pending.subarray(count);
  }
}
