/**
 * SCP timeouts through the real `listen` command (a child process): associations that send nothing
 * are aborted (A-ABORT) after --idle-timeout and their slots freed, so dcmtk's storescu gets in
 * again; a connection that never completes an A-ASSOCIATE-RQ is closed after the ARTIM timeout
 * (--association-timeout). Each is logged with the peer's address and no stack trace.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScuAssociation } from '../../src/dicom/dimse-association';
import { PDU_TYPE } from '../../src/dicom/dimse-pdata';
import { run } from '../helpers/dcmtk';
import { validFixtures } from '../helpers/dicom-files';
import { startListen, type ListenProcess } from '../helpers/listen';

const VERIFICATION = '1.2.840.10008.1.1';
const TIMEOUTS = { connectMs: 2000, associationMs: 2000, dimseMs: 5000 };

describe('SCP timeouts (listen --idle-timeout, --association-timeout)', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'scp-timeouts-'));
  const out = join(root, 'out');
  let listen: ListenProcess;
  before(async () => {
    listen = await startListen(out, ['--idle-timeout', '1.5', '--association-timeout', '1', '--max-associations', '8']);
  });
  after(async () => {
    await listen.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const closed = (socket: Socket): Promise<void> => new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  const storescu = (file: string) => run('storescu', ['-aet', 'STORESCU', '-aec', listen.aet, '127.0.0.1', String(listen.port), file]);

  test('eight idle associations are aborted after the idle timeout, and storescu then succeeds', async () => {
    const idle = await Promise.all(
      Array.from({ length: 8 }, () =>
        ScuAssociation.open({ host: '127.0.0.1', port: listen.port, callingAet: 'IDLER', calledAet: listen.aet, contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] }], maxPduLength: 16384, timeouts: TIMEOUTS }),
      ),
    );
    const sockets = idle.map((a) => (a as unknown as { socket: Socket }).socket);
    const received = sockets.map((s) => {
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      return got;
    });
    const ct = validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file;
    const refused = await storescu(ct);
    assert.notEqual(refused.code, 0, 'every slot is held by an idle association');

    await Promise.all(sockets.map(closed));
    for (const got of received) assert.equal(Buffer.concat(got)[0], PDU_TYPE.ABORT, 'the SCP sent an A-ABORT before closing');

    const res = await storescu(ct);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(readdirSync(out, { recursive: true }).filter((n) => String(n).endsWith('.dcm')).length, 1);
    const aborted = await listen.logLines(/IDLER@127\.0\.0\.1 sent nothing for 1\.5 s: aborted/, 8);
    assert.equal(aborted.length, 8, listen.stderr());
    assert.ok(aborted.every((l) => /"address":"127\.0\.0\.1"/.test(l)), 'the peer\'s address is logged');
  });

  test('a connection that never completes an A-ASSOCIATE-RQ is closed after the ARTIM timeout', async () => {
    const silent = connect({ host: '127.0.0.1', port: listen.port });
    const partial = connect({ host: '127.0.0.1', port: listen.port }, () => partial.write(Buffer.from([PDU_TYPE.ASSOCIATE_RQ, 0, 0, 0])));
    for (const s of [silent, partial]) s.on('error', () => undefined);
    await Promise.all([closed(silent), closed(partial)]);
    const lines = await listen.logLines(/no association request from 127\.0\.0\.1 within 1 s: connection closed/, 2);
    assert.equal(lines.length, 2, listen.stderr());
    assert.doesNotMatch(listen.stderr(), /\n\s+at /, 'no stack trace');
    // The SCP still serves.
    assert.equal((await run('echoscu', ['-aec', listen.aet, '127.0.0.1', String(listen.port)])).code, 0);
  });
});
