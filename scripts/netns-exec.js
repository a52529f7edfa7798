#!/usr/bin/env node
'use strict';
// Runs a Node script inside a private network namespace that has only loopback (as root, where
// `unshare -n` works), so the servers it starts (Orthanc, storescp, our SCP bind every interface)
// cannot be reached from outside. Elsewhere it runs the script as it is, and says so.
const { spawnSync } = require('node:child_process');

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: netns-exec.js <script.js> [args...]');
  process.exit(2);
}
const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const inside = process.env.DICOM_PIPELINE_NETNS === '1';
const canUnshare = !inside && isRoot && spawnSync('unshare', ['-n', 'true']).status === 0;
const env = { ...process.env, DICOM_PIPELINE_NETNS: canUnshare ? '1' : process.env.DICOM_PIPELINE_NETNS };
const res = canUnshare
  ? spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec ${[process.execPath, script, ...args].map(quote).join(' ')}`], { stdio: 'inherit', env })
  : spawnSync(process.execPath, [script, ...args], { stdio: 'inherit', env });
if (!canUnshare && !inside) console.error('note: no private network namespace (needs root and unshare): servers listened on all interfaces while this ran');
process.exit(res.status === null ? 1 : res.status);
