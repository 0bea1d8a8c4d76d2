import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { defaultCacheDir } from '../../src/infer/cache-dir';

const HOME = '/home/driver';

test('uses EDGE_POTHOLE_CACHE_DIR first, resolved to an absolute path', () => {
  const env = { EDGE_POTHOLE_CACHE_DIR: 'var/cache', XDG_CACHE_HOME: '/xdg' };

  assert.equal(defaultCacheDir(env, HOME), path.resolve('var/cache'));
});

test('uses XDG_CACHE_HOME/edge-pothole when EDGE_POTHOLE_CACHE_DIR is unset or empty', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' }, HOME), '/xdg/edge-pothole');
  assert.equal(
    defaultCacheDir({ EDGE_POTHOLE_CACHE_DIR: '', XDG_CACHE_HOME: '/xdg' }, HOME),
    '/xdg/edge-pothole',
  );
});

test('falls back to ~/.cache/edge-pothole without either variable', () => {
  assert.equal(defaultCacheDir({}, HOME), '/home/driver/.cache/edge-pothole');
});

test('ignores a relative XDG_CACHE_HOME, as the XDG specification asks', () => {
  const dir = defaultCacheDir({ XDG_CACHE_HOME: 'cache' }, HOME);

  assert.equal(dir, '/home/driver/.cache/edge-pothole');
});
