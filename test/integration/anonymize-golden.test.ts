import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { anonymizeTree } from '../../src/anon/anonymize-tree';
import { DEFAULT_PROFILE } from '../../src/anon/options';
import { DEFAULT_QUARANTINE_RULES } from '../../src/anon/quarantine-rules';
import type { AnonymizeSettings } from '../../src/anon/settings';
import { findElement, type Element } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES } from '../helpers/cli';
import { dciodvfyErrors } from '../helpers/dicom-tools';
import { dicomFiles } from '../helpers/files';

interface Fixture { path: string; valid?: boolean; transferSyntax?: string }
const manifest: Fixture[] = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8'));

function text(ds: readonly Element[], tag: number): string | undefined {
  const el = findElement(ds, tag);
  return el ? decodeText(el, 'ISO_IR 192') : undefined;
}

/** Every value of a tag at any depth. */
function bulk(ds: readonly Element[], tag: number): Buffer | undefined {
  const el = findElement(ds, tag);
  return el?.fragments ?? el?.value;
}

const { dir, cleanup } = tempDir('dp-golden-');
test.after(cleanup);

function settingsFor(name: string, input: string): AnonymizeSettings {
  return {
    inputDir: input,
    outputDir: join(dir, name, 'out'),
    quarantineDir: join(dir, name, 'quarantine'),
    identityDb: join(dir, 'identity.db'),
    identity: { keyFile: join(dir, 'key') },
    // Institution Name is retained here because pydicom's MR files name their institution after the
    // manufacturer (TOSHIBA / TOSHIBA_MEC), which the verifier rightly refuses; tested separately below.
    profile: { ...DEFAULT_PROFILE, retainInstitutionIdentity: true },
    quarantine: { ...DEFAULT_QUARANTINE_RULES, allowedModalities: '*', riskySopClasses: false },
    workers: 1,
  };
}

const dcmtkPresent = spawnSync('dcmdump', ['--version']).status === 0 && spawnSync('which', ['dciodvfy']).status === 0;

for (const fixture of manifest.filter((f) => f.valid !== false)) {
  test(`golden: ${fixture.path}`, { skip: !dcmtkPresent && 'dcmdump/dciodvfy not installed' }, async () => {
    const name = fixture.path.replace(/[/.]/g, '_');
    const input = join(dir, name, 'in');
    mkdirSync(input, { recursive: true });
    const source = join(FIXTURES, fixture.path);
    copyFileSync(source, join(input, basename(fixture.path)));
    const summary = await anonymizeTree(settingsFor(name, input));
    const original = parsePart10(readFileSync(source));
    if (summary.anonymized === 0) {
      // Only files without a modality or whose PHI the verifier catches may stay out; say which.
      const reasons = readFileSync(join(dir, name, 'quarantine', 'quarantine.jsonl'), 'utf8');
      assert.match(reasons, /modality missing|phi-verify/, `${fixture.path} quarantined: ${reasons}`);
      return;
    }
    const [output] = dicomFiles(join(dir, name, 'out'));
    const out = parsePart10(readFileSync(output));
    assert.equal(out.transferSyntax.uid, fixture.transferSyntax, 'written in its own transfer syntax');
    const pixels = bulk(original.dataset, 0x7fe00010);
    if (pixels) assert.ok(bulk(out.dataset, 0x7fe00010)?.equals(pixels), 'pixel data copied byte for byte');
    for (const tag of [0x00280010, 0x00280011, 0x00280100, 0x00200032, 0x00200037, 0x00280030, 0x00080060]) {
      const before = findElement(original.dataset, tag);
      if (before?.value) assert.ok(findElement(out.dataset, tag)?.value?.equals(before.value), `kept attribute ${tag.toString(16)} byte-identical`);
    }
    assert.equal(text(out.dataset, 0x00120062), 'YES');
    for (const tag of [0x00100010, 0x00100020, 0x00100030, 0x00080090, 0x00080050]) {
      const before = text(original.dataset, tag);
      if (before && before.length > 2) assert.notEqual(text(out.dataset, tag), before, `${tag.toString(16)} replaced`);
    }
    assert.equal(text(out.meta, 0x00020003), text(out.dataset, 0x00080018), 'meta and dataset agree on the SOP Instance UID');
    assert.ok(basename(output).startsWith('2.25.'), 'file named by its new UID');
    assert.notEqual(text(out.dataset, 0x00080018), text(original.dataset, 0x00080018));

    const dump = spawnSync('dcmdump', [output], { encoding: 'utf8' });
    assert.equal(dump.status, 0, `dcmdump failed: ${dump.stderr}`);
    const before = dciodvfyErrors(source);
    const fresh = [...dciodvfyErrors(output)].filter((e) => !before.has(e));
    assert.deepEqual(fresh, [], 'dciodvfy reports no new error');
  });
}

test('the default profile quarantines pydicom MR_small: its institution name survives inside Manufacturer', async () => {
  const input = join(dir, 'mr-default', 'in');
  mkdirSync(input, { recursive: true });
  copyFileSync(join(FIXTURES, 'ts', 'MR_small.dcm'), join(input, 'MR_small.dcm'));
  const settings = { ...settingsFor('mr-default', input), profile: DEFAULT_PROFILE };
  const summary = await anonymizeTree(settings);
  assert.deepEqual(summary.quarantinedByReason, { 'phi-verify: InstitutionName': 1 });
});
