/**
 * Disk full on the SCP side (a tiny tmpfs, root only): the C-STORE that does not fit is answered
 * 0xA700 (out of resources), no temp file is left, everything stored before is intact, and the SCP
 * keeps serving.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScuAssociation } from '../../src/dicom/dimse-association';
import { StorageScp } from '../../src/scp/server';
import { splitFile, validFixtures } from '../helpers/dicom-files';
import { isRoot, mountTmpfs, unmount } from '../helpers/tmpfs';


describe('Storage SCP on a full disk', { skip: isRoot ? false : 'needs root to mount a tmpfs' }, () => {
  const root = mkdtempSync(join(tmpdir(), 'scp-full-'));
  const mount = join(root, 'tiny');
  let scp: StorageScp;
  let mounted = false;

  before(async () => {
    mounted = mountTmpfs(mount, '64k');
    scp = new StorageScp({ aeTitle: 'PIPE_SCP', port: 0, host: '127.0.0.1', outDir: mount });
    await scp.start();
  });
  after(async () => {
    await scp?.stop();
    if (mounted) unmount(mount);
    rmSync(root, { recursive: true, force: true });
  });

  test('answers 0xA700 when full, keeps what it stored, and keeps serving', async (t) => {
    if (!mounted) return t.skip('mount -t tmpfs failed here');
    const ct = splitFile(validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file); // ~39 KB
    const assoc = await ScuAssociation.open({
      host: '127.0.0.1', port: scp.port, callingAet: 'TEST', calledAet: 'PIPE_SCP',
      contexts: [{ abstractSyntax: ct.sopClassUid, transferSyntaxes: [ct.transferSyntaxUid] }],
      maxPduLength: 16384, timeouts: { connectMs: 2000, associationMs: 2000, dimseMs: 5000 },
    });
    t.after(() => assoc.abort());
    const statuses: number[] = [];
    const stored: string[] = [];
    scp.on('stored', (s) => stored.push(s.path));
    // The same instance again is a replacement: its temp file must fit beside the stored copy.
    statuses.push((await assoc.store({ sopClassUid: ct.sopClassUid, sopInstanceUid: ct.sopInstanceUid, transferSyntaxUid: ct.transferSyntaxUid, dataset: ct.dataset })).status);
    for (let i = 0; i < 3; i++) {
      statuses.push((await assoc.store({ sopClassUid: ct.sopClassUid, sopInstanceUid: ct.sopInstanceUid, transferSyntaxUid: ct.transferSyntaxUid, dataset: ct.dataset })).status);
    }
    assert.equal(statuses[0], 0, 'first copy fits');
    assert.ok(statuses.includes(0xa700), `a replacement that does not fit next to the stored file is refused: ${statuses.map((s) => s.toString(16))}`);
    // Nothing already stored is lost, no temp file left behind.
    const all = readdirSync(mount, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    assert.equal(all.length, 1, all.map((e) => e.name).join(', '));
    assert.ok(splitFile(stored[0]).dataset.equals(ct.dataset));
    assert.ok(readFileSync(stored[0]).length > ct.dataset.length);
    await assoc.release();
    assert.ok(scp.counts.failed >= 1);
    // Still serving: a new association is accepted and answered.
    const again = await ScuAssociation.open({
      host: '127.0.0.1', port: scp.port, callingAet: 'TEST', calledAet: 'PIPE_SCP',
      contexts: [{ abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }],
      maxPduLength: 16384, timeouts: { connectMs: 2000, associationMs: 2000, dimseMs: 5000 },
    });
    assert.equal((await again.echo()).status, 0);
    await again.release();
  });
});
