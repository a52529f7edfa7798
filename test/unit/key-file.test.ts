/**
 * Regression: two instances started at once with no key file yet (the shared-PostgreSQL run test in
 * CI) made one read the file the other had created but not yet written: "key file ... is not 64 hex
 * digits". The key file must only ever appear whole, and every racer must end with the same key.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const root = mkdtempSync(join(tmpdir(), 'key-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
const MODULE = join(__dirname, '..', '..', 'src', 'anon', 'identity', 'key-file.js');

function racer(path: string): Promise<{ code: number | null; out: string; err: string }> {
  const script = `const { loadOrCreateKey } = require(${JSON.stringify(MODULE)});
try { process.stdout.write(loadOrCreateKey(${JSON.stringify(path)}).key.toString('hex')); }
catch (e) { process.stderr.write(e.message); process.exit(1); }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

test('processes creating the key file at once all get the same whole key; no temp file is left', async () => {
  for (let round = 0; round < 12; round++) {
    const dir = join(root, `round-${round}`);
    const path = join(dir, 'identity.key');
    const results = await Promise.all(Array.from({ length: 8 }, () => racer(path)));
    for (const r of results) assert.equal(r.code, 0, r.err);
    assert.equal(new Set(results.map((r) => r.out)).size, 1, 'one key for everyone');
    assert.match(results[0].out, /^[0-9a-f]{64}$/);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['identity.key']);
  }
});
