/**
 * Our SCU → our SCP through the dcmjs-dimse gateway: every fixture travels as its own bytes (private
 * tags, odd encodings, UN elements, deflate and big endian included) and lands unchanged; and the
 * regression test for dcmjs-dimse's quadratic command buffer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScuAssociation, VERIFICATION } from '../../src/dicom/dimse-association';
import { EXPLICIT_LE, transferSyntax } from '../../src/dicom/transfer-syntax';
import { findElement } from '../../src/dicom/dataset';
import { parseDataset } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { StorageScp } from '../../src/scp/server';
import { instancePath } from '../../src/scp/store';
import { splitFile, validFixtures } from '../helpers/dicom-files';

const TIMEOUTS = { connectMs: 2000, associationMs: 2000, dimseMs: 5000 };

/** Fixtures that cannot be filed under <Study>/<Series>/: refused with "cannot understand". */
const UNROUTABLE = new Set(['charset/chrSQEncoding.dcm', 'charset/chrSQEncoding1.dcm']);

/** The dataset's own SOP Instance UID (some fixtures' meta header says another one). */
function datasetSopInstance(file: { dataset: Buffer; transferSyntaxUid: string; sopInstanceUid: string }): string {
  const el = findElement(parseDataset(file.dataset, transferSyntax(file.transferSyntaxUid)!), 0x00080018);
  return el ? decodeText(el) : file.sopInstanceUid;
}

describe('our SCU to our SCP', () => {
  const root = mkdtempSync(join(tmpdir(), 'dimse-roundtrip-'));
  const scp = new StorageScp({ aeTitle: 'PIPE_SCP', port: 0, host: '127.0.0.1', outDir: root });
  before(() => scp.start());
  after(async () => {
    await scp.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const open = (contexts: { abstractSyntax: string; transferSyntaxes: string[] }[]): Promise<ScuAssociation> =>
    ScuAssociation.open({ host: '127.0.0.1', port: scp.port, callingAet: 'ROUNDTRIP', calledAet: 'PIPE_SCP', contexts, maxPduLength: 16384, timeouts: TIMEOUTS });

  for (const fixture of validFixtures()) {
    const file = splitFile(fixture.file);
    if (!file.sopClassUid || !file.sopInstanceUid) continue; // no meta UIDs: nothing to address a C-STORE with
    test(`${fixture.path} ${UNROUTABLE.has(fixture.path) ? 'is refused: no Study/Series UID' : 'arrives with its dataset bytes unchanged'}`, async () => {
      const stored = new Promise<string>((resolve) => scp.once('stored', (s) => resolve(s.path)));
      const assoc = await open([{ abstractSyntax: file.sopClassUid, transferSyntaxes: [file.transferSyntaxUid] }]);
      const reply = await assoc.store({ sopClassUid: file.sopClassUid, sopInstanceUid: datasetSopInstance(file), transferSyntaxUid: file.transferSyntaxUid, dataset: file.dataset });
      await assoc.release();
      if (UNROUTABLE.has(fixture.path)) {
        assert.equal(reply.status, 0xc000, 'no Study/Series UID: refused');
        return;
      }
      assert.equal(reply.status, 0);
      const got = splitFile(await stored);
      assert.equal(got.transferSyntaxUid, file.transferSyntaxUid);
      assert.ok(got.dataset.equals(file.dataset), 'dataset bytes identical to the file');
    });
  }

  test('a dataset whose UIDs differ from its command is refused (0xA900) and not stored', async () => {
    const ct = splitFile(validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file);
    const assoc = await open([{ abstractSyntax: ct.sopClassUid, transferSyntaxes: [ct.transferSyntaxUid] }]);
    const reply = await assoc.store({ sopClassUid: ct.sopClassUid, sopInstanceUid: '1.2.3.4', transferSyntaxUid: ct.transferSyntaxUid, dataset: ct.dataset });
    await assoc.release();
    assert.equal(reply.status, 0xa900);
  });

  test('a transfer syntax the peer did not accept is refused locally, never sent on another context', async () => {
    const ct = splitFile(validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file);
    const assoc = await open([{ abstractSyntax: ct.sopClassUid, transferSyntaxes: ['1.2.840.10008.1.2'] }]);
    await assert.rejects(
      assoc.store({ sopClassUid: ct.sopClassUid, sopInstanceUid: ct.sopInstanceUid, transferSyntaxUid: ct.transferSyntaxUid, dataset: ct.dataset }),
      /accepted no presentation context for SOP class .* in transfer syntax 1\.2\.840\.10008\.1\.2\.1/,
    );
    await assoc.release();
  });

  // Regression: dcmjs-dimse 0.3.3 kept every dataset-less command in its receive buffer, so each
  // response re-parsed all earlier ones on the association (2,000 C-STOREs: 50-74 s instead of 15 s).
  test('thousands of requests on one association stay linear (command buffer reset)', async () => {
    const assoc = await open([{ abstractSyntax: VERIFICATION, transferSyntaxes: [EXPLICIT_LE] }]);
    const quarter = 750;
    const durations: number[] = [];
    for (let q = 0; q < 4; q++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < quarter; i++) assert.equal((await assoc.echo()).status, 0);
      durations.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    await assoc.release();
    // Quadratic growth makes the last quarter ~7x slower than the first; linear stays ~1x.
    assert.ok(durations[3] < durations[0] * 3 + 50, `quarters took ${durations.map((d) => d.toFixed(0)).join(', ')} ms`);
  });

  test('files land at <out>/<Study>/<Series>/<SOP>.dcm', () => {
    const ct = validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file;
    const path = instancePath(root, {
      studyInstanceUid: '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322',
      seriesInstanceUid: '1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322',
      sopInstanceUid: '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322',
      sopClassUid: '',
    });
    assert.ok(splitFile(path).dataset.equals(splitFile(ct).dataset));
    assert.ok(readFileSync(path).subarray(128, 132).toString() === 'DICM');
  });
});
