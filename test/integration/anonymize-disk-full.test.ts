/**
 * `anonymize` whose output file system fills up (a small tmpfs, root only): it stops with one line
 * naming the output directory, its free space and what to do, exit 1, no stack trace and no
 * identified UID; inline (one worker) and with worker threads alike.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync } from '../helpers/cli';
import { fakeStudy } from '../helpers/studies';
import { isRoot, mountTmpfs, unmount } from '../helpers/tmpfs';

const STUDY = '1.2.826.0.1.3680043.10.67.1';
const { dir, cleanup } = tempDir('dp-anon-full-');
const input = join(dir, 'in');
const mount = join(dir, 'tiny');
let mounted = false;

before(() => {
  if (!isRoot) return;
  mkdirSync(input);
  fakeStudy({ patientId: 'PAT-Z', patientName: 'ZEALOUS^ZOE', studyUid: STUDY, instances: 40 })
    .forEach((file, i) => writeFileSync(join(input, `${i}.dcm`), file)); // ~1.6 MB
  mounted = mountTmpfs(mount, '512k');
});

after(() => {
  if (mounted) unmount(mount);
  cleanup();
});

for (const workers of ['1', '2']) {
  test(`output disk full with ${workers} worker(s): one line, exit 1`, { skip: isRoot ? false : 'needs root to mount a tmpfs' }, async (t) => {
    if (!mounted) return t.skip('mount -t tmpfs failed here');
    const out = join(mount, `out${workers}`);
    const res = await runCliAsync(['anonymize', input, out, '--quarantine', join(dir, `q${workers}`), '--identity', join(dir, 'identity.db'),
      '--allowed-modalities', '*', '--workers', workers], { DICOM_PIPELINE_KEY_FILE: join(dir, 'identity.key') }, dir);
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    const lines = res.stderr.trim().split('\n');
    assert.equal(lines.length, 1, res.stderr);
    assert.match(lines[0], new RegExp(`^dicom-pipeline: disk full writing ${out} \\(ENOSPC, [\\d.]+ [kMG]B free\\): free space .*-r\`$`));
    assert.ok(!/PAT-Z|ZEALOUS|1\.2\.826\.0\.1\.3680043\.10\.67/.test(res.stdout + res.stderr), 'no PHI, no identified UID');
    assert.doesNotMatch(res.stderr, /\n\s+at /);
    rmSync(out, { recursive: true, force: true });
  });
}
