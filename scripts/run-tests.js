#!/usr/bin/env node
'use strict';
// Runs every compiled test file (dist/test/**/*.test.js) with Node's own test runner.
// Node 20 has no glob support in `node --test`, so the files are listed here.
// Files run one at a time: the machine has two cores and the model tests use both.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'dist', 'test');

function listTests(dir) {
  if (!fs.existsSync(dir)) return [];

  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listTests(full);

    return entry.name.endsWith('.test.js') ? [full] : [];
  });
}

const filter = process.argv[2];
const files = listTests(root)
  .filter((file) => !filter || file.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${root}${filter ? ` matching ${filter}` : ''}; run "npm run build"`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit', env: { ...process.env, EDGE_POTHOLE_LOG_LEVEL: process.env.EDGE_POTHOLE_LOG_LEVEL ?? 'silent' } },
);
process.exit(result.status ?? 1);
