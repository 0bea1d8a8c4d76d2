import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LatestFrameSlot } from '../../src/capture/latest-frame';
import type { Frame } from '../../src/capture/source';

function frame(n: number): Frame {
  return { data: Buffer.from([n]), capturedAt: new Date(n), source: 'cam' };
}

test('gives the newest frame and counts the older ones it replaced as dropped', async () => {
  const slot = new LatestFrameSlot();
  slot.put(frame(1));
  slot.put(frame(2));
  slot.put(frame(3));

  assert.equal((await slot.take())?.data[0], 3);
  assert.deepEqual({ captured: slot.captured, dropped: slot.dropped }, { captured: 3, dropped: 2 });
});

test('hands a frame straight to a waiting loop without counting a drop', async () => {
  const slot = new LatestFrameSlot();
  const taking = slot.take();
  slot.put(frame(7));

  assert.equal((await taking)?.data[0], 7);
  assert.equal(slot.dropped, 0);
});

test('never holds more than one frame, however many arrive', async () => {
  const slot = new LatestFrameSlot();
  for (let n = 1; n <= 1000; n += 1) slot.put(frame(n));

  assert.equal((await slot.take())?.data[0], 1000 % 256);
  const next = slot.take();
  slot.end();
  assert.equal(await next, undefined);
  assert.equal(slot.dropped, 999);
});

test('resolves a waiting take with undefined when the source ends', async () => {
  const slot = new LatestFrameSlot();
  const taking = slot.take();
  slot.end();

  assert.equal(await taking, undefined);
  assert.equal(await slot.take(), undefined);
});
