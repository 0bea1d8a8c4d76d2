import assert from 'node:assert/strict';
import { test } from 'node:test';

import { InterruptGuard } from '../../src/retrain/interrupt-guard';

test('stops at once when Ctrl-C comes while nothing is being written', () => {
  const stops: boolean[] = [];
  const guard = new InterruptGuard((wroteModel) => stops.push(wroteModel));

  guard.interrupt();

  assert.deepEqual(stops, [false]);
});

test('lets the write in progress finish, then stops saying the model was written', async () => {
  const events: string[] = [];
  const guard = new InterruptGuard((wroteModel) => events.push(`stop ${wroteModel}`));
  let finish = () => {};
  const written = new Promise<void>((resolve) => { finish = resolve; });

  const writing = guard.whileWriting(async () => {
    await written;
    events.push('written');

    return 'model';
  });
  guard.interrupt();
  events.push('interrupted');
  finish();

  assert.equal(await writing, 'model');
  assert.deepEqual(events, ['interrupted', 'written', 'stop true']);
});

test('never stops when no interrupt came, even when a write fails', async () => {
  const stops: boolean[] = [];
  const guard = new InterruptGuard((wroteModel) => stops.push(wroteModel));

  await guard.whileWriting(async () => 'ok');
  await assert.rejects(guard.whileWriting(async () => { throw new Error('disk full'); }),
    /disk full/);

  assert.deepEqual(stops, []);
});
