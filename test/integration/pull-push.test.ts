/**
 * pull from a staging Orthanc and push to a research Orthanc, through the CLI, against real Orthanc
 * processes: files identical to what Orthanc stores, a study Orthanc cannot send whole is reported,
 * and every misconfiguration ends in one clear line and a non-zero exit within the timeout.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sameContent, splitFile, splitPart10, validFixtures } from '../helpers/dicom-files';
import { Orthanc } from '../helpers/orthanc';
import { assertPulledAsStored } from '../helpers/pulled-files';
import { deadPort, freePort } from '../helpers/ports';
import { writeSyntheticStudies, type SyntheticFile } from '../helpers/synthetic';

const CLI = join(__dirname, '..', '..', '..', 'bin', 'dicom-pipeline.js');
const FAST = ['--connect-timeout', '3', '--timeout', '10'];

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function cli(args: readonly string[]): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, DICOM_PIPELINE_LOG_LEVEL: 'error' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

describe('pull and push against Orthanc', () => {
  const root = mkdtempSync(join(tmpdir(), 'pull-push-'));
  let localPort = 0;
  let staging: Orthanc;
  let research: Orthanc;
  let synthetic: SyntheticFile[] = [];
  const rtdoseStudy = '1.2.999.999.99.9.9999.8888';

  before(async () => {
    localPort = await freePort();
    const pipe = { aeTitle: 'PIPE', host: '127.0.0.1', port: localPort };
    [staging, research] = await Promise.all([
      Orthanc.start({ aeTitle: 'STAGING', modalities: { pipe } }),
      Orthanc.start({ aeTitle: 'RESEARCH', modalities: { pipe } }),
    ]);
    synthetic = writeSyntheticStudies(validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file, join(root, 'synthetic'), {
      studies: 3,
      seriesPerStudy: 2,
      instancesPerSeries: 5,
    });
    for (const f of synthetic) await staging.upload(f.path);
    for (const f of validFixtures().filter((x) => x.path.startsWith('ts/'))) await staging.upload(f.file);
  });

  after(async () => {
    await Promise.all([staging?.stop(), research?.stop()]);
    rmSync(root, { recursive: true, force: true });
  });

  test('pull of several studies: every file identical to what Orthanc stored', async () => {
    const out = join(root, 'pulled');
    const studies = [...new Set(synthetic.map((f) => f.studyInstanceUid))];
    const res = await cli(['pull', staging.address, ...studies, '--out', out, '--aet', 'PIPE', '--port', String(localPort), ...FAST]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /3 studies, 3 complete, 0 incomplete; 30 instances received/);
    await assertPulledAsStored(staging, synthetic, out);
    // A second pull finds everything on disk and moves nothing.
    const again = await cli(['pull', staging.address, ...studies, '--out', out, '--aet', 'PIPE', '--port', String(localPort), ...FAST]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /0 instances received in this run/);
  });

  test('a study Orthanc cannot send whole (rtdose_rle) is reported; the other studies arrive', async () => {
    const out = join(root, 'partial');
    const ct = '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322';
    const res = await cli(['pull', staging.address, ct, rtdoseStudy, '--out', out, '--aet', 'PIPE', '--port', String(localPort), '--retries', '2', ...FAST]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stdout, new RegExp(`${ct}: expected 1, received 1, failed 0`));
    assert.match(res.stdout, new RegExp(`${rtdoseStudy.replace(/\./g, '\\.')}: expected 1, received 0, failed 1`));
    assert.match(res.stderr, new RegExp(`1 of 2 studies incomplete .*${rtdoseStudy.replace(/\./g, '\\.')}`));
    assert.equal(files(out).length, 1);
  });

  test('push to Orthanc: stored, confirmed by C-FIND, identical via REST (Orthanc re-encodes sequence lengths only)', async () => {
    const dir = join(root, 'to-push');
    mkdirSync(dir);
    // Not pushed here: rtdose_rle (Orthanc mis-indexes its UN-encoded UIDs), the MR_small variants
    // (one SOP Instance UID shared by several files), and image_dfl: Orthanc 1.10 never answers a
    // C-STORE carrying its odd-length deflated bytes as they are (storescu re-deflates and pads).
    const skip = new Set(['ts/rtdose_rle.dcm', 'ts/image_dfl.dcm']);
    const sources = validFixtures().filter((f) => f.path.startsWith('ts/') && !skip.has(f.path) && !f.path.startsWith('ts/MR_small_'));
    for (const f of sources) copyFileSync(f.file, join(dir, f.path.replace('ts/', '')));
    for (const f of synthetic.slice(0, 10)) copyFileSync(f.path, join(dir, `syn-${f.sopInstanceUid}.dcm`));
    const res = await cli(['push', research.address, dir, '--aet', 'PIPE', '--associations', '2', '--requests-per-association', '4', ...FAST]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const total = sources.length + 10;
    assert.match(res.stdout, new RegExp(`stored:\\s+${total}`));
    assert.match(res.stdout, new RegExp(`^confirmed: ${total} \\(C-FIND\\)$`, 'm'), 'auto without --port: C-FIND');
    const byUid = new Map((await research.instances()).map((i) => [i.sopInstanceUid, i]));
    for (const path of files(dir)) {
      const local = splitFile(path);
      const remote = byUid.get(local.sopInstanceUid);
      assert.ok(remote, `${path} at the destination`);
      const stored = splitPart10(await research.instanceFile(remote.id));
      assert.equal(stored.transferSyntaxUid, local.transferSyntaxUid, `${path}: no transcoding`);
      // Orthanc re-encodes undefined-length sequences with explicit lengths when it stores a C-STORE:
      // byte-identical where the file has none, element-by-element identical otherwise.
      assert.ok(stored.dataset.equals(local.dataset) || sameContent(stored, local), `${path}: dataset identical`);
    }
  });

  test('push names files that are not DICOM and exits non-zero', async () => {
    const dir = join(root, 'mixed');
    mkdirSync(dir);
    copyFileSync(synthetic[0].path, join(dir, 'good.dcm'));
    writeFileSync(join(dir, 'notes.txt'), 'not dicom');
    const res = await cli(['push', research.address, dir, '--aet', 'PIPE', ...FAST]);
    assert.equal(res.code, 3);
    assert.match(res.stdout, /notes\.txt: not a DICOM Part-10 file/);
    assert.match(res.stderr, /1 of 2 files not delivered/);
  });

  test('C-MOVE to a destination Orthanc does not know: clear error, non-zero exit', async () => {
    const res = await cli(['pull', staging.address, rtdoseStudy, '--out', join(root, 'x'), '--aet', 'STRANGER', '--calling-aet', 'PIPE', '--port', String(await freePort()), ...FAST]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^dicom-pipeline: C-MOVE refused by STAGING@127\.0\.0\.1:\d+ .* knows "STRANGER" as a move destination/m);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
  });

  test('dead port: connection refused, within the timeout', async () => {
    const res = await cli(['pull', `STAGING@127.0.0.1:${await deadPort()}`, rtdoseStudy, '--out', join(root, 'y'), '--aet', 'PIPE', '--port', String(await freePort()), ...FAST]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^dicom-pipeline: connection refused by 127\.0\.0\.1:\d+/m);
    assert.ok(res.ms < 5000, `took ${res.ms} ms`);
    const push = await cli(['push', `RESEARCH@127.0.0.1:${await deadPort()}`, join(root, 'mixed'), ...FAST]);
    assert.equal(push.code, 1);
    assert.match(push.stderr, /connection refused/);
  });

  test('unknown calling AE: the refusal names our calling AE title', async () => {
    const res = await cli(['find', staging.address, '--aet', 'NOBODY', ...FAST]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^dicom-pipeline: association aborted by STAGING@.*calling AE "NOBODY"/m);
  });

  test('rejected association (wrong called AE title): reason given', async () => {
    const res = await cli(['echo', `WRONG@127.0.0.1:${staging.dicomPort}`, '--aet', 'PIPE', ...FAST]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^dicom-pipeline: association rejected by WRONG@127\.0\.0\.1:\d+ .*called AE title not recognized/m);
  });

  test('echo and find succeed', async () => {
    const echo = await cli(['echo', staging.address, '--aet', 'PIPE', ...FAST]);
    assert.equal(echo.code, 0, echo.stderr);
    const find = await cli(['find', staging.address, '--aet', 'PIPE', '--json', '-k', `StudyInstanceUID=${synthetic[0].studyInstanceUid}`, ...FAST]);
    assert.equal(find.code, 0, find.stderr);
    const matches = JSON.parse(find.stdout) as Record<string, string>[];
    assert.equal(matches.length, 1);
    assert.equal(matches[0].NumberOfStudyRelatedInstances, '10');
  });
});
