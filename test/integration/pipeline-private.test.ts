import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePart10, type ParsedFile } from '../../src/dicom/parse';
import { IMPLICIT_LE } from '../../src/dicom/transfer-syntax';
import { RunDir } from '../../src/run/run-dir';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES, runCliAsync } from '../helpers/cli';
import { startPipelinePeers, type PipelinePeers } from '../helpers/pipeline-peers';
import { assertPrivateKeptExactly, GE_ITEMS, GE_PARM, GE_PARM_RELOCATED, GE_TOP, privatePaths } from '../helpers/private-attributes';

/**
 * Retain Safe Private through a whole `dicom-pipeline run`: staging Orthanc → C-MOVE into our SCP →
 * anonymize step → C-STORE into the research Orthanc, on one GE CT study of the three DWI-like
 * fixtures (GEMS_PARM_01 at (0043,0010), relocated to (0043,0011), and Implicit VR).
 */

const { dir, cleanup } = tempDir('dp-e2e-private-');
let peers: PipelinePeers;

const FIXTURE_NAMES = ['GE_CT_dwi_like.dcm', 'GE_CT_dwi_like_relocated.dcm', 'GE_CT_dwi_like_implicit.dcm'];
const inputs = FIXTURE_NAMES.map((name) => parsePart10(readFileSync(join(FIXTURES, 'private', name))));
const STUDY_UID = '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322';
/** GEMS_ACQU_01 Number of Cells in Detector (0019,xx02) SL: not in Table E.3.10-1, the site reviewed it. */
const SITE_RULE = { creator: 'GEMS_ACQU_01', element: '(0019,xx02)', vr: 'SL', vm: '1' };
const PHI = ['CompressedSamples', '1CT1', '1.3.6.1.4.1.5962.'];

/** Which fixture a research file came from: the relocated block and the transfer syntax tell them apart. */
function sourceOf(file: ParsedFile): { input: ParsedFile; expected: string[]; name: string } {
  const paths = privatePaths(file.dataset);
  const i = paths.includes('(0043,0011)') ? 1 : file.transferSyntax.uid === IMPLICIT_LE ? 2 : 0;
  const expected = [...GE_TOP, '(0019,1002)', ...(i === 1 ? GE_PARM_RELOCATED : GE_PARM), ...GE_ITEMS];
  return { input: inputs[i], expected, name: FIXTURE_NAMES[i] };
}

before(async () => {
  peers = await startPipelinePeers([]);
  for (const name of FIXTURE_NAMES) await peers.staging.upload(join(FIXTURES, 'private', name));
  writeFileSync(join(dir, 'reviewed.csv'), `study_instance_uid,has_protocol_series,comment\n${STUDY_UID},false,GE DWI-like\n`);
});

after(async () => {
  await peers?.stop();
  cleanup();
});

test('run with profile.retainSafePrivate: the research PACS gets the listed private attributes byte for byte, a site rule applied, nothing else private', async () => {
  const config = peers.writeRunConfig(dir, 'dicom-pipeline.json', { profile: { retainSafePrivate: true }, privateKeep: [SITE_RULE] });
  const res = await runCliAsync(['run', '-c', config], {}, dir);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);

  const research = peers.research;
  const ids = await research.instanceIds();
  assert.equal(ids.length, 3, 'every instance delivered');
  const seen = new Set<string>();
  for (const id of ids) {
    const bytes = await research.instanceFile(id);
    const text = bytes.toString('latin1');
    for (const token of PHI) assert.ok(!text.includes(token), `${token} reached the research PACS`);
    const stored = parsePart10(bytes);
    const { input, expected, name } = sourceOf(stored);
    seen.add(name);
    assertPrivateKeptExactly(input.dataset, stored.dataset, expected, `${name}: `);
  }
  assert.equal(seen.size, 3, 'the explicit, relocated and implicit files each arrived');

  const report = readFileSync(join(RunDir.latest(join(dir, 'data'))!.path, 'anonymize_output.txt'), 'utf8');
  assert.match(report, /^private: +45 attributes kept by Retain Safe Private \(PS3\.15 Table E\.3\.10-1, 125 rows; 1 site rules\)$/m);
  assert.match(report, /^ +GEMS_PARM_01 \(0043,xx39\) IS \[table\]: 9$/m, 'the b-value: top level and two items of each file');
  assert.match(report, /^ +GEMS_ACQU_01 \(0019,xx02\) SL \[site\]: 3$/m, 'the site rule is applied and reported');
});
