/**
 * pull from a staging Q/R SCP that is not Orthanc: dcmtk's dcmqrscp (Study Root C-FIND and C-MOVE,
 * a HostTable naming our AE as move destination), loaded with storescu. The pulled files hold the
 * datasets that were loaded (dcmqrscp stores what it receives and sends it back unchanged in
 * content), the study counts reconcile, and a second pull moves nothing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { instancePath } from '../../src/scp/store';
import { runCliAsync } from '../helpers/cli';
import { datasetDump } from '../helpers/dcmdump';
import { run, startDcmqrscp, type DcmtkServer } from '../helpers/dcmtk';
import { validFixtures } from '../helpers/dicom-files';
import { freePort } from '../helpers/ports';
import { writeSyntheticStudies, type SyntheticFile } from '../helpers/synthetic';

const FAST = ['--connect-timeout', '3', '--timeout', '20'];

function uidsOf(path: string): Omit<SyntheticFile, 'path'> {
  const { dataset } = parsePart10(readFileSync(path));
  const uid = (tag: number): string => decodeText(findElement(dataset, tag)!);
  return { studyInstanceUid: uid(0x0020000d), seriesInstanceUid: uid(0x0020000e), sopInstanceUid: uid(0x00080018) };
}

describe('pull from dcmtk dcmqrscp as staging', () => {
  const root = mkdtempSync(join(tmpdir(), 'pull-dcmqrscp-'));
  let staging: DcmtkServer;
  let localPort = 0;
  let loaded: SyntheticFile[] = [];
  /** One more study, Implicit VR LE: dcmqrscp sends it back in a syntax of its choosing, same values. */
  const implicit = validFixtures().find((f) => f.path === 'ts/MR_small_implicit.dcm')!.file;

  before(async () => {
    localPort = await freePort();
    mkdirSync(join(root, 'qr'));
    staging = await startDcmqrscp(join(root, 'qr'), await freePort(), [{ aeTitle: 'PIPE', port: localPort }]);
    const template = validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file;
    loaded = writeSyntheticStudies(template, join(root, 'loaded'), { studies: 2, seriesPerStudy: 2, instancesPerSeries: 3 });
    loaded.push({ path: implicit, ...uidsOf(implicit) });
    const store = await run('storescu', ['-aet', 'LOADER', '-aec', staging.aeTitle, '127.0.0.1', String(staging.port), ...loaded.map((f) => f.path)]);
    assert.equal(store.code, 0, store.stderr + staging.output());
  });

  after(async () => {
    await staging?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('C-FIND and C-MOVE: every loaded instance arrives with the same dataset; a second pull moves nothing', async () => {
    const out = join(root, 'pulled');
    const studies = [...new Set(loaded.map((f) => f.studyInstanceUid))];
    const args = ['pull', staging.address, ...studies, '--out', out, '--aet', 'PIPE', '--port', String(localPort), ...FAST];
    const res = await runCliAsync(args, { DICOM_PIPELINE_LOG_LEVEL: 'error' });
    assert.equal(res.code, 0, res.stdout + res.stderr + staging.output());
    assert.match(res.stdout, /3 studies, 3 complete, 0 incomplete; 13 instances received/);
    for (const f of loaded) {
      const pulled = instancePath(out, { ...f, sopClassUid: '' });
      assert.equal(datasetDump(pulled), datasetDump(f.path), `${f.sopInstanceUid}: the dataset that was loaded`);
    }
    assert.equal(readdirSync(out, { recursive: true }).filter((p) => String(p).endsWith('.dcm')).length, loaded.length);
    const again = await runCliAsync(args, { DICOM_PIPELINE_LOG_LEVEL: 'error' });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 instances received in this run/);
  });

  test('a C-MOVE to a destination dcmqrscp does not know fails with one clear line', async () => {
    const res = await runCliAsync(['pull', staging.address, loaded[0].studyInstanceUid, '--out', join(root, 'x'), '--aet', 'STRANGER', '--calling-aet', 'PIPE', '--port', String(await freePort()), ...FAST], { DICOM_PIPELINE_LOG_LEVEL: 'error' });
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stderr, /^dicom-pipeline: DCMQRSCP@127\.0\.0\.1:\d+ does not know the move destination "STRANGER"/m);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
  });
});
