#!/usr/bin/env node
'use strict';
// npm run demo: the whole pipeline against two local Orthanc servers (dist/demo/run-demo.js).
// Orthanc and our SCP bind every interface, so as root the demo runs inside a private network
// namespace that has only loopback: nothing it starts is reachable from outside this machine.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const demo = path.resolve(__dirname, '..', 'dist', 'demo', 'run-demo.js');
if (!fs.existsSync(demo)) {
  console.error('demo: not built yet; run `npm ci` first');
  process.exit(2);
}
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['-n', 'true']).status === 0;
const res = canUnshare
  ? spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" "${demo}"`], { stdio: 'inherit' })
  : spawnSync(process.execPath, [demo], { stdio: 'inherit' });
if (!canUnshare) console.error('demo: note: ran without a private network namespace (needs root); the servers listened on all interfaces while it ran');
process.exit(res.status === null ? 1 : res.status);
