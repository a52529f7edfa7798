/**
 * DICOM TLS against Orthanc 1.10 with DicomTlsEnabled (its DICOM port then speaks TLS only), through
 * the CLI: echo, find, pull (Orthanc's C-MOVE sub-associations come to our SCP over TLS, as
 * "UseDicomTls" asks) and push, byte-exact; and every misconfiguration ends in one line that says
 * what is wrong and what to change. Certificates are made by the test (helpers/certs.ts).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeCa, type CertFiles, type TestCa } from '../helpers/certs';
import { oneLine, runCliAsync } from '../helpers/cli';
import { sameContent, splitFile, splitPart10, validFixtures } from '../helpers/dicom-files';
import { Orthanc } from '../helpers/orthanc';
import { assertPulledAsStored } from '../helpers/pulled-files';
import { freePort } from '../helpers/ports';
import { writeSyntheticStudies, type SyntheticFile } from '../helpers/synthetic';

const FAST = ['--connect-timeout', '3', '--timeout', '10'];

function tlsFlags(ours: Partial<CertFiles>, ca: string): string[] {
  return [...(ours.cert ? ['--tls-cert', ours.cert] : []), ...(ours.key ? ['--tls-key', ours.key] : []), '--tls-ca', ca];
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}


describe('DICOM TLS with Orthanc', () => {
  const root = mkdtempSync(join(tmpdir(), 'tls-orthanc-'));
  let ca: TestCa;
  let otherCa: TestCa;
  let ours: CertFiles;
  let staging: Orthanc;
  let research: Orthanc;
  let localPort = 0;
  let synthetic: SyntheticFile[] = [];

  before(async () => {
    ca = makeCa('Pipeline Test CA');
    otherCa = makeCa('Some Other CA');
    ours = ca.issue('pipeline');
    const server = ca.issue('orthanc');
    localPort = await freePort();
    const pipe = { aeTitle: 'PIPE', host: '127.0.0.1', port: localPort, tls: true };
    const tls = { ...server, ca: ca.cert };
    [staging, research] = await Promise.all([
      Orthanc.start({ aeTitle: 'STAGING', modalities: { pipe }, tls }),
      Orthanc.start({ aeTitle: 'RESEARCH', modalities: { pipe }, tls }),
    ]);
    synthetic = writeSyntheticStudies(validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file, join(root, 'synthetic'), {
      studies: 2,
      seriesPerStudy: 2,
      instancesPerSeries: 3,
    });
    for (const f of synthetic) await staging.upload(f.path);
  });

  after(async () => {
    await Promise.all([staging?.stop(), research?.stop()]);
    ca?.remove();
    otherCa?.remove();
    rmSync(root, { recursive: true, force: true });
  });

  test('echo and find over mutual TLS', async () => {
    const echo = await runCliAsync(['echo', staging.address, '--aet', 'PIPE', ...tlsFlags(ours, ca.cert), ...FAST]);
    assert.equal(echo.code, 0, echo.stderr);
    assert.match(echo.stdout, /C-ECHO STAGING@127\.0\.0\.1:\d+: success \(\d+ ms, TLSv1\.3 TLS_AES_\w+\)/, 'TLS 1.3 when both sides can');
    const tls13 = await runCliAsync(['echo', staging.address, '--aet', 'PIPE', ...tlsFlags(ours, ca.cert), '--tls-min-version', '1.3', ...FAST]);
    assert.equal(tls13.code, 0, tls13.stderr);
    const find = await runCliAsync(['find', staging.address, '--aet', 'PIPE', '--json', '-k', `StudyInstanceUID=${synthetic[0].studyInstanceUid}`, ...tlsFlags(ours, ca.cert), ...FAST]);
    assert.equal(find.code, 0, find.stderr);
    assert.equal((JSON.parse(find.stdout) as Record<string, string>[])[0].NumberOfStudyRelatedInstances, '6');
  });

  test('pull over TLS: the C-MOVE sub-associations reach our TLS-only SCP; every file identical to what Orthanc stored', async () => {
    const out = join(root, 'pulled');
    const studies = [...new Set(synthetic.map((f) => f.studyInstanceUid))];
    const res = await runCliAsync(['pull', staging.address, ...studies, '--out', out, '--aet', 'PIPE', '--port', String(localPort), ...tlsFlags(ours, ca.cert), ...FAST]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /2 studies, 2 complete, 0 incomplete; 12 instances received/);
    await assertPulledAsStored(staging, synthetic, out);
  });

  test('push over TLS: stored, confirmed, identical at the destination', async () => {
    const dir = join(root, 'to-push');
    mkdirSync(dir);
    for (const f of synthetic.slice(0, 4)) copyFileSync(f.path, join(dir, `${f.sopInstanceUid}.dcm`));
    const res = await runCliAsync(['push', research.address, dir, '--aet', 'PIPE', ...tlsFlags(ours, ca.cert), ...FAST]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /stored:\s+4/);
    assert.match(res.stdout, /confirmed:\s+4/);
    const byUid = new Map((await research.instances()).map((i) => [i.sopInstanceUid, i]));
    for (const path of files(dir)) {
      const local = splitFile(path);
      const stored = splitPart10(await research.instanceFile(byUid.get(local.sopInstanceUid)!.id));
      assert.ok(stored.dataset.equals(local.dataset) || sameContent(stored, local), `${path} identical`);
    }
  });

  test('plain DICOM to Orthanc\'s TLS port: one line saying the port wants TLS', async () => {
    const res = await runCliAsync(['echo', staging.address, '--aet', 'PIPE', ...FAST]);
    assert.equal(res.code, 1);
    assert.match(oneLine(res.stderr), /^dicom-pipeline: .*STAGING@127\.0\.0\.1:\d+.*(TLS-only|in TLS).*turn tls on/);
  });

  test('our certificate from a CA Orthanc does not trust: refused, and the line says where to add the CA', async () => {
    const stranger = otherCa.issue('stranger');
    const res = await runCliAsync(['echo', staging.address, '--aet', 'PIPE', ...tlsFlags(stranger, ca.cert), ...FAST]);
    assert.equal(res.code, 1);
    assert.match(oneLine(res.stderr), /^dicom-pipeline: TLS: STAGING@127\.0\.0\.1:\d+ refused our certificate .*trusted certificates/);
  });

  test('no client certificate: Orthanc requires one, and the line says which options give it', async () => {
    const res = await runCliAsync(['echo', staging.address, '--aet', 'PIPE', '--tls-ca', ca.cert, ...FAST]);
    assert.equal(res.code, 1);
    assert.match(oneLine(res.stderr), /^dicom-pipeline: TLS: STAGING@127\.0\.0\.1:\d+ requires a client certificate and we gave none: set tls\.cert and tls\.key/);
  });

  test("Orthanc's certificate is not from our CA: we refuse it", async () => {
    const res = await runCliAsync(['echo', staging.address, '--aet', 'PIPE', '--tls-cert', ours.cert, '--tls-key', ours.key, '--tls-ca', otherCa.cert, ...FAST]);
    assert.equal(res.code, 1);
    assert.match(oneLine(res.stderr), /^dicom-pipeline: TLS: the certificate of STAGING@127\.0\.0\.1:\d+ is not signed by a CA in .*: add the CA/);
  });

  test('nothing was stored by the refused attempts', async () => {
    assert.equal((await research.instances()).length, 4, 'only the 4 pushed over TLS');
  });
});
