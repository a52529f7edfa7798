#!/usr/bin/env node
'use strict';
// npm run demo: the whole pipeline against two local Orthanc servers (dist/demo/run-demo.js),
// inside a loopback-only network namespace where possible (scripts/netns-exec.js).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const demo = path.resolve(__dirname, '..', 'dist', 'demo', 'run-demo.js');
if (!fs.existsSync(demo)) {
  console.error('demo: not built yet; run `npm ci` first');
  process.exit(2);
}
const res = spawnSync(process.execPath, [path.join(__dirname, 'netns-exec.js'), demo, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(res.status === null ? 1 : res.status);
