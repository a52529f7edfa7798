import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load';
import { PipelineError } from '../../src/errors';
import { peersFromConfig } from '../../src/run/preflight';
import { tempDir } from '../helpers/anon-env';
import { runCli } from '../helpers/cli';

const RUN = { practice: false, noPush: false, max: 10, allowedModalities: ['MR', 'CT'] as string[] };
const base = {
  local: { aet: 'DCMQR', port: 11112 },
  staging: { aet: 'STAGING', host: '127.0.0.1', port: 4242 },
  research: { aet: 'RESEARCH', host: '127.0.0.1', port: 4243 },
  review: { csv: 'reviewed.csv' },
};

test('a run refuses a research peer that is the staging peer', () => {
  for (const research of [{ ...base.staging, aet: 'OTHER' }, { aet: 'R', host: 'localhost', port: 4242 }]) {
    assert.throws(() => peersFromConfig(parseConfig({ ...base, research }, 't'), RUN),
      (e: unknown) => e instanceof PipelineError && e.code === 'E_CONFIG' && /same peer/.test(e.message));
  }
  assert.equal(peersFromConfig(parseConfig(base, 't'), RUN).research?.port, 4243);
});

test('every missing key of a run is listed at once; research is not needed for practice or no-push runs', () => {
  assert.throws(() => peersFromConfig(parseConfig({}, 't'), RUN), (e: unknown) =>
    e instanceof PipelineError && ['local', 'staging', 'research', 'review'].every((k) => e.message.includes(k)));
  const { research: _omitted, ...withoutResearch } = base;
  assert.equal(peersFromConfig(parseConfig(withoutResearch, 't'), { ...RUN, practice: true }).research, undefined);
  assert.equal(peersFromConfig(parseConfig(withoutResearch, 't'), { ...RUN, noPush: true }).research, undefined);
  assert.deepEqual(peersFromConfig(parseConfig(base, 't'), RUN).local.allowedCallingAets, ['STAGING'], 'the SCP takes stores from staging only');
});

test('--print-config shows the effective configuration with defaults filled in; a bad one lists every problem', () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'dicom-pipeline.json'), JSON.stringify(base));
    const shown = runCli(['--print-config'], {}, dir);
    assert.equal(shown.code, 0, shown.stderr);
    const printed = JSON.parse(shown.stdout.split('\n').slice(1).join('\n'));
    assert.equal(printed.maxStudies, 10);
    assert.deepEqual(printed.allowedModalities, ['MR', 'CT']);
    assert.equal(printed.profile.retainLongitudinal, 'modified');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...base, local: { aet: 'X'.repeat(20), port: 0 }, staging: { aet: 'S', host: '', port: 1 }, extra: 1 }));
    const bad = runCli(['-c', 'bad.json'], {}, dir);
    assert.equal(bad.code, 2);
    for (const key of ['local.aet', 'local.port', 'staging.host', 'Unrecognized key']) assert.match(bad.stderr, new RegExp(key.replace('.', '\\.')));
  } finally {
    cleanup();
  }
});
