#!/usr/bin/env node
'use strict';
// Runs the compiled tests with node's test runner. Integration tests start servers that bind every
// interface (Orthanc, storescp, our SCP), so as root we re-run ourselves inside a private network
// namespace that has only loopback: nothing we start is reachable from outside.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const kinds = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration'];

function inPrivateNetns() {
  if (process.env.DICOM_PIPELINE_NETNS === '1') return true;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) return false;
  const probe = spawnSync('unshare', ['-n', 'true']);
  if (probe.status !== 0) return false;
  const script = `ip link set lo up && exec "${process.execPath}" "${__filename}" ${kinds.join(' ')}`;
  const res = spawnSync('unshare', ['-n', 'sh', '-c', script], {
    stdio: 'inherit',
    env: { ...process.env, DICOM_PIPELINE_NETNS: '1' },
  });
  process.exit(res.status === null ? 1 : res.status);
}

function testFiles(kind) {
  const dir = path.join(root, 'dist', 'test', kind);
  if (!fs.existsSync(dir)) return [];
  const out = [];
  (function walk(d) {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.test.js')) out.push(p);
    }
  })(dir);
  return out.sort();
}

if (kinds.includes('integration') && !inPrivateNetns()) {
  process.stderr.write('note: not root or no unshare: integration servers run on this host\'s network namespace\n');
}
const files = kinds.flatMap(testFiles);
if (files.length === 0) {
  process.stderr.write(`no compiled tests found for: ${kinds.join(', ')} (did tsc run?)\n`);
  process.exit(1);
}
// Integration suites own ports and server processes: run files one at a time.
const args = ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files];
const res = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
process.exit(res.status === null ? 1 : res.status);
