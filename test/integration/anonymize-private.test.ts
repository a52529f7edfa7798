import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { anonymizeTree, type AnonymizeSummary } from '../../src/anon/anonymize-tree';
import { DEFAULT_PROFILE, type ProfileOptions } from '../../src/anon/options';
import { DEFAULT_QUARANTINE_RULES } from '../../src/anon/quarantine-rules';
import type { SitePrivateRule } from '../../src/anon/rules/private-rules';
import { formatSummary } from '../../src/anon/settings-from-config';
import { findElement, type Element } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES, runCliAsync } from '../helpers/cli';
import { dciodvfyErrors } from '../helpers/dicom-tools';
import { dicomFiles } from '../helpers/files';
import { assertPrivateKeptExactly, elementAt, GE_ITEMS, GE_PARM, GE_PARM_RELOCATED, GE_TOP, privatePaths } from '../helpers/private-attributes';

/**
 * Retain Safe Private on real vendor files (pydicom's GE CT, dicom3tools' Siemens MR) with the DWI
 * attributes added (fixtures/private/make_private_fixtures.py): what the table lists survives byte
 * for byte with its creator, wherever the block sits and at every depth; nothing else private does.
 */

const { dir, cleanup } = tempDir('dp-private-');
test.after(cleanup);
let runs = 0;

interface Run {
  readonly summary: AnonymizeSummary;
  readonly input: Element[];
  readonly output?: Element[];
  readonly outputPath?: string;
  readonly quarantine: string;
}

async function anonymize(fixture: string, profile: Partial<ProfileOptions>, privateKeep: SitePrivateRule[] = []): Promise<Run> {
  const base = join(dir, `run${runs++}`);
  const input = join(base, 'in');
  mkdirSync(input, { recursive: true });
  copyFileSync(join(FIXTURES, fixture), join(input, basename(fixture)));
  const summary = await anonymizeTree({
    inputDir: input,
    outputDir: join(base, 'out'),
    quarantineDir: join(base, 'quarantine'),
    identityDb: join(dir, 'identity.db'),
    identity: { keyFile: join(dir, 'key') },
    profile: { ...DEFAULT_PROFILE, ...profile },
    privateKeep,
    quarantine: { ...DEFAULT_QUARANTINE_RULES, allowedModalities: '*' },
    workers: 1,
  });
  const [outputPath] = summary.anonymized ? dicomFiles(join(base, 'out')) : [];
  return {
    summary,
    input: parsePart10(readFileSync(join(FIXTURES, fixture))).dataset,
    output: outputPath ? parsePart10(readFileSync(outputPath)).dataset : undefined,
    outputPath,
    quarantine: join(base, 'quarantine'),
  };
}

/** The listed elements survive byte for byte (same VR too), and they are the only private ones left. */
function assertKeptExactly(run: Run, expected: string[]): void {
  assert.ok(run.output, `anonymized (summary: ${JSON.stringify(run.summary.quarantinedByReason)})`);
  assertPrivateKeptExactly(run.input, run.output!, expected);
}

function methodCodes(ds: readonly Element[]): string[] {
  return findElement(ds, 0x00120064)!.items!.map((item) => decodeText(findElement(item.elements, 0x00080100)!));
}

function assertToolsAccept(run: Run, fixture: string): void {
  const dump = spawnSync('dcmdump', ['-q', run.outputPath!], { encoding: 'utf8' });
  assert.equal(dump.status, 0, `dcmdump parses the output: ${dump.stderr}`);
  const before = dciodvfyErrors(join(FIXTURES, fixture));
  assert.deepEqual([...dciodvfyErrors(run.outputPath!)].filter((e) => !before.has(e)), [], 'dciodvfy reports no new error');
}

const tools = spawnSync('dcmdump', ['--version']).status === 0 && spawnSync('which', ['dciodvfy']).status === 0;
const ON = { retainSafePrivate: true };

test('GE CT with DWI rows: the listed attributes and their creators survive byte for byte, at every depth; nothing else private', { skip: !tools && 'dcmdump/dciodvfy not installed' }, async () => {
  const fixture = 'private/GE_CT_dwi_like.dcm';
  const run = await anonymize(fixture, ON);
  assertKeptExactly(run, [...GE_TOP, ...GE_PARM, ...GE_ITEMS]);
  assert.equal(findElement(run.output!, 0x00080300), undefined, 'Private Data Element Characteristics Sequence removed, never trusted');
  assert.ok(methodCodes(run.output!).includes('113111'), '(0012,0064) names Retain Safe Private');
  assert.match(decodeText(findElement(run.output!, 0x00120063)!), /Retain Safe Private Option/);
  assert.equal(run.summary.privateAttributes.kept['GEMS_PARM_01 (0043,xx39) IS [table]'], 3);
  assertToolsAccept(run, fixture);
});

test('GE CT, GEMS_PARM_01 relocated to (0043,0011): (0043,1139) is the b-value and survives; (0043,1039) under another creator does not', { skip: !tools && 'dcmdump/dciodvfy not installed' }, async () => {
  const fixture = 'private/GE_CT_dwi_like_relocated.dcm';
  const run = await anonymize(fixture, ON);
  assertKeptExactly(run, [...GE_TOP, ...GE_PARM_RELOCATED, ...GE_ITEMS]);
  assertToolsAccept(run, fixture);
});

test('GE CT in Implicit VR: the private values arrive as UN, are read per the table VR and survive byte for byte', { skip: !tools && 'dcmdump/dciodvfy not installed' }, async () => {
  const fixture = 'private/GE_CT_dwi_like_implicit.dcm';
  const run = await anonymize(fixture, ON);
  assert.equal(elementAt(run.input, '(0043,1039)')!.vr, 'UN');
  assertKeptExactly(run, [...GE_TOP, ...GE_PARM, ...GE_ITEMS]);
  assertToolsAccept(run, fixture);
});

test('Siemens MR with DWI rows: B value, directionality, gradient and the B matrix sent as UN survive; creators differing by case or inner spaces match nothing', { skip: !tools && 'dcmdump/dciodvfy not installed' }, async () => {
  const fixture = 'private/SIEMENS_MR_dwi_like.dcm';
  const run = await anonymize(fixture, ON);
  assert.equal(elementAt(run.input, '(0019,0010)')!.value!.toString('latin1'), 'SIEMENS MR HEADER ', 'the creator is padded: trailing spaces do not count');
  assertKeptExactly(run, ['(0019,0010)', '(0019,100C)', '(0019,100D)', '(0019,100E)', '(0019,1027)']);
  assert.equal(elementAt(run.output!, '(0019,1027)')!.vr, 'UN');
  assertToolsAccept(run, fixture);
});

test('site rules (privateKeep) add reviewed attributes with the option on, and are reported', async () => {
  const site: SitePrivateRule[] = [
    { creator: 'SIEMENS MR HEADER', element: '(0019,xx28)', vr: 'FD', vm: '1' },
    { creator: 'SIEMENS MR HEADER', element: '(0019,xx29)', vr: 'FD' },
    { creator: 'ACME LAB', element: '0031,xx10', vr: 'DS' },
  ];
  const run = await anonymize('private/SIEMENS_MR_dwi_like.dcm', ON, site);
  assertKeptExactly(run, ['(0019,0010)', '(0019,100C)', '(0019,100D)', '(0019,100E)', '(0019,1027)', '(0019,1028)', '(0019,1029)']);
  const report = formatSummary(run.summary);
  assert.match(report, /private: {6}6 attributes kept by Retain Safe Private \(PS3.15 Table E.3.10-1, 125 rows; 3 site rules\)/);
  assert.match(report, /SIEMENS MR HEADER \(0019,xx28\) FD \[site\]: 1/);
  assert.match(report, /ACME LAB \(0031,xx10\) DS \[site\]: 0/, 'a site rule that kept nothing is listed too');
  assert.match(decodeText(findElement(run.output!, 0x00120063)!), /plus 3 site private attribute rules/);

  const off = await anonymize('private/SIEMENS_MR_dwi_like.dcm', {}, site);
  assert.deepEqual(privatePaths(off.output!), [], 'site rules need the option');
  assert.match(formatSummary(off.summary), /3 privateKeep site rules not applied: they need profile.retainSafePrivate/);
});

test('without the option nothing private survives in any vendor fixture, and (0012,0064) does not name 113111', async () => {
  for (const fixture of ['private/GE_CT_dwi_like.dcm', 'private/GE_CT_dwi_like_relocated.dcm', 'private/GE_CT_dwi_like_implicit.dcm',
    'private/SIEMENS_MR_dwi_like.dcm', 'ts/CT_small.dcm', 'misc/MR_siemens_csa_0051.dcm']) {
    const run = await anonymize(fixture, {});
    assert.ok(run.output, `${fixture} anonymized`);
    assert.deepEqual(privatePaths(run.output!), [], `${fixture}: no private attribute`);
    assert.ok(!methodCodes(run.output!).includes('113111'));
  }
});

test('a kept private value holding the patient\'s family name quarantines the file', async () => {
  const run = await anonymize('private/GE_CT_private_phi.dcm', ON);
  assert.equal(run.summary.anonymized, 0);
  assert.deepEqual(Object.keys(run.summary.quarantinedByReason), ['phi-verify: PatientName']);
  const off = await anonymize('private/GE_CT_private_phi.dcm', {});
  assert.equal(off.summary.anonymized, 1, 'without the option the value is removed and the file passes');
});

test('dicom-pipeline anonymize --config honours retainSafePrivate and privateKeep, and prints what it kept', async () => {
  const base = join(dir, 'cli');
  const input = join(base, 'in');
  mkdirSync(input, { recursive: true });
  for (const f of ['private/GE_CT_dwi_like.dcm', 'private/SIEMENS_MR_dwi_like.dcm']) copyFileSync(join(FIXTURES, f), join(input, basename(f)));
  const config = join(base, 'dicom-pipeline.json');
  writeFileSync(config, JSON.stringify({
    profile: { retainSafePrivate: true },
    privateKeep: [{ creator: 'SIEMENS MR HEADER', element: '(0019,xx28)', vr: 'FD', vm: '1' }],
  }));
  const res = await runCliAsync(['anonymize', input, join(base, 'out'), '--config', config, '--identity', join(base, 'identity.db'), '--allowed-modalities', '*'],
    { DICOM_PIPELINE_KEY_FILE: join(base, 'identity.key') });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^anonymized: {3}2 /m);
  assert.match(res.stdout, /^private: {6}19 attributes kept by Retain Safe Private \(PS3.15 Table E.3.10-1, 125 rows; 1 site rules\)$/m);
  assert.match(res.stdout, /^ {2}GEMS_PARM_01 \(0043,xx39\) IS \[table\]: 3$/m);
  assert.match(res.stdout, /^ {2}SIEMENS MR HEADER \(0019,xx28\) FD \[site\]: 1$/m);
  const outputs = dicomFiles(join(base, 'out')).map((f) => parsePart10(readFileSync(f)).dataset);
  assert.ok(outputs.every((ds) => methodCodes(ds).includes('113111')));
});
