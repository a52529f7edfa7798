/**
 * dcmtk storescu → our Storage SCP: every fixture (each SOP class and transfer syntax) is stored with
 * the dataset bytes storescu sent, unchanged, behind a correct meta header. storescu re-encodes what it
 * reads (dcmtk normalizes lengths and padding), so "what was sent" is captured by sending the same file
 * the same way to dcmtk's storescp in bit-preserving mode (+B). Also: association policy, replacement.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/ports';
import { stopChild, track } from '../helpers/processes';
import { StorageScp } from '../../src/scp/server';
import { run, storescuArgs } from '../helpers/dcmtk';
import { splitFile, validFixtures } from '../helpers/dicom-files';

/** dcmtk itself cannot send these unchanged: covered by our own push in push-scp.test.ts. */
const DCMTK_CANNOT_SEND: Record<string, string> = {
  'ts/rtdose_rle.dcm': 'SOP Class UID encoded as UN: storescu finds no SOP class',
  'charset/chrSQEncoding.dcm': 'no SOP Class UID in the dataset: storescu refuses it',
  'charset/chrSQEncoding1.dcm': 'no SOP Class UID in the dataset: storescu refuses it',
  'misc/nested_priv_SQ.dcm': 'no SOP Class UID anywhere: storescu refuses it',
};

function storedFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

describe('Storage SCP receiving from dcmtk storescu', () => {
  const root = mkdtempSync(join(tmpdir(), 'scp-storescu-'));
  const out = join(root, 'out');
  const scp = new StorageScp({ aeTitle: 'PIPE_SCP', port: 0, host: '127.0.0.1', outDir: out, allowedCallingAets: ['STORESCU', 'ECHOSCU'] });

  const reference = join(root, 'reference');
  let storescp: ChildProcess;
  let storescpPort = 0;

  before(async () => {
    await scp.start();
    storescpPort = await freePort();
    mkdirSync(reference);
    storescp = spawn('storescp', ['+B', '+xa', '-aet', 'REFERENCE', '-od', reference, String(storescpPort)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
    track(storescp);
    await waitForEcho(storescpPort, 'REFERENCE');
  });
  after(async () => {
    await scp.stop();
    await stopChild(storescp);
    rmSync(root, { recursive: true, force: true });
  });

  for (const fixture of validFixtures()) {
    if (DCMTK_CANNOT_SEND[fixture.path]) continue;
    test(`${fixture.path} (${fixture.transferSyntax}) arrives byte-identical`, async () => {
      rmSync(out, { recursive: true, force: true });
      for (const f of storedFiles(reference)) rmSync(f);
      const args = [...storescuArgs(fixture.transferSyntax), fixture.file];
      const ref = await run('storescu', ['-aec', 'REFERENCE', '127.0.0.1', String(storescpPort), ...args]);
      assert.equal(ref.code, 0, ref.stderr);
      const res = await run('storescu', ['-aec', 'PIPE_SCP', '127.0.0.1', String(scp.port), ...args]);
      assert.equal(res.code, 0, res.stderr);
      const files = storedFiles(out);
      assert.equal(files.length, 1, `one file stored, got ${files.length}`);
      const sent = splitFile(storedFiles(reference)[0]);
      const got = splitFile(files[0]);
      assert.equal(got.transferSyntaxUid, fixture.transferSyntax);
      assert.equal(got.sopClassUid, fixture.sopClass);
      assert.equal(got.sopInstanceUid, sent.sopInstanceUid);
      assert.equal(sent.transferSyntaxUid, fixture.transferSyntax, 'storescu sent the file in its own transfer syntax');
      assert.ok(files[0].endsWith(`${sent.sopInstanceUid}.dcm`));
      assert.ok(got.dataset.equals(sent.dataset), 'dataset bytes identical to what storescu sent');
      const dump = await run('dcmdump', ['-q', files[0]]);
      assert.equal(dump.code, 0, `dcmdump reads the stored file: ${dump.stderr}`);
    });
  }

  test('a repeated identical instance is stored once, leaving no temp file', async () => {
    rmSync(out, { recursive: true, force: true });
    const file = validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file;
    for (let i = 0; i < 2; i++) assert.equal((await run('storescu', ['-aec', 'PIPE_SCP', '127.0.0.1', String(scp.port), file])).code, 0);
    const all = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    assert.deepEqual(all.map((e) => e.name), [`${splitFile(file).sopInstanceUid}.dcm`]);
  });

  test('a different instance under a stored SOP Instance UID is kept beside it, never over it', async () => {
    rmSync(out, { recursive: true, force: true });
    const file = validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file;
    const other = join(root, 'other-patient.dcm');
    // Same UIDs, another patient: what a PACS holding one image under two patients sends.
    copyFileSync(file, other);
    assert.equal((await run('dcmodify', ['-nb', '-m', 'PatientID=OTHER-ID', other])).code, 0);
    for (const f of [file, other, file, other]) assert.equal((await run('storescu', ['-aec', 'PIPE_SCP', '127.0.0.1', String(scp.port), f])).code, 0);
    const sop = splitFile(file).sopInstanceUid;
    const names = readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
    assert.deepEqual(names, [`${sop}.dcm`, `${sop}.dup-1.dcm`], 'both kept; the repeats of each added nothing');
    assert.equal(scp.counts.duplicates, 1);
  });

  test('C-ECHO is answered', async () => {
    const res = await run('echoscu', ['-aec', 'PIPE_SCP', '127.0.0.1', String(scp.port)]);
    assert.equal(res.code, 0, res.stderr);
  });

  test('an association to another called AE title is rejected', async () => {
    const res = await run('echoscu', ['-aec', 'SOMEONE_ELSE', '127.0.0.1', String(scp.port)]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /Called AE Title Not Recognized/i);
  });

  test('a calling AE title outside the allow list is rejected', async () => {
    const res = await run('echoscu', ['-aet', 'INTRUDER', '-aec', 'PIPE_SCP', '127.0.0.1', String(scp.port)]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /Calling AE Title Not Recognized/i);
  });
});

async function waitForEcho(port: number, aet: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await run('echoscu', ['-aec', aet, '127.0.0.1', String(port)])).code === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`storescp on port ${port} did not start`);
}
