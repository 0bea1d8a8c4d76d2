import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assignSet, type DataSet } from '../../src/retrain/split';

function countSets(names: string[], validation: number, testing: number): Record<DataSet, number> {
  const counts: Record<DataSet, number> = { training: 0, validation: 0, testing: 0 };
  for (const name of names) counts[assignSet(name, validation, testing)] += 1;

  return counts;
}

const MANY = Array.from({ length: 10_000 }, (_, i) => `pothole/frame${i}_jpg.rf.${i * 7919}.jpg`);

test('gives the same set for the same relative path on every call', () => {
  for (const name of MANY.slice(0, 200)) {
    assert.equal(assignSet(name, 10, 10), assignSet(name, 10, 10));
  }
});

test('distributes many names roughly by the requested percentages', () => {
  const counts = countSets(MANY, 10, 20);

  // Binomial standard deviation at n = 10,000 is under 0.5 points; allow 1.5.
  assert.ok(Math.abs(counts.validation / 100 - 10) < 1.5, `validation ${counts.validation / 100}%`);
  assert.ok(Math.abs(counts.testing / 100 - 20) < 1.5, `testing ${counts.testing / 100}%`);
  assert.equal(counts.training + counts.validation + counts.testing, MANY.length);
});

test('puts everything in training when both percentages are 0', () => {
  assert.deepEqual(countSets(MANY.slice(0, 1000), 0, 0), {
    training: 1000,
    validation: 0,
    testing: 0,
  });
});

test('puts variants of one photo marked _nohash_ in one set', () => {
  const variants = Array.from({ length: 50 }, (_, i) => `pothole/car_nohash_${i}.jpg`);
  const sets = new Set(variants.map((name) => assignSet(name, 10, 10)));

  assert.equal(sets.size, 1, `variants spread over ${[...sets].join(', ')}`);
  assert.equal(assignSet('pothole/car_nohash_7.jpg', 10, 10), assignSet('pothole/car', 10, 10));
});

test('spreads the same 50 names over several sets without _nohash_', () => {
  // The control for the test above: without the marker these names do not stick together.
  const names = Array.from({ length: 50 }, (_, i) => `pothole/car_${i}.jpg`);

  assert.ok(new Set(names.map((name) => assignSet(name, 10, 10))).size > 1);
});

test('treats backslash-separated paths like slash-separated ones', () => {
  const names = MANY.slice(0, 200).map((name) => name.replace('/', '\\'));

  assert.deepEqual(
    names.map((name) => assignSet(name, 10, 10)),
    MANY.slice(0, 200).map((name) => assignSet(name, 10, 10)),
  );
});

test('gives a name the same set in NFC and NFD spelling', () => {
  const names = Array.from({ length: 100 }, (_, i) => `pothole/nid-de-poule é ${i}.jpg`);

  for (const name of names) {
    const nfc = name.normalize('NFC');
    const nfd = name.normalize('NFD');
    assert.notEqual(nfc, nfd);
    assert.equal(assignSet(nfd, 10, 10), assignSet(nfc, 10, 10), name);
  }
});
