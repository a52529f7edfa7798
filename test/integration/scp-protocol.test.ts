/**
 * Our SCP's own P-DATA layer against peers that break the protocol, and the directory fsyncs around
 * an association: a malformed or misaddressed message aborts that association only (the SCP keeps
 * serving), a request we do not serve is answered "unrecognized operation", and every stored file is
 * in place when the A-RELEASE-RP arrives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMMAND } from '../../src/dicom/dimse-command';
import { ScuAssociation } from '../../src/dicom/dimse-association';
import { encodeMessage } from '../../src/dicom/dimse-pdata';
import { StorageScp } from '../../src/scp/server';
import { splitFile, validFixtures } from '../helpers/dicom-files';

const TIMEOUTS = { connectMs: 2000, associationMs: 2000, dimseMs: 5000 };
const VERIFICATION = '1.2.840.10008.1.1';

describe('SCP protocol handling', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'scp-protocol-'));
  // A batching delay far longer than any test: directory fsyncs happen only when something asks.
  const scp = new StorageScp({ aeTitle: 'PIPE_SCP', port: 0, host: '127.0.0.1', outDir: root, dirSyncDelayMs: 60_000 });
  const errors: string[] = [];
  const ct = splitFile(validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file);
  before(async () => {
    scp.on('connectionError', (e) => errors.push(e));
    await scp.start();
  });
  after(async () => {
    await scp.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const open = (contexts = [{ abstractSyntax: ct.sopClassUid, transferSyntaxes: [ct.transferSyntaxUid] }, { abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2'] }]) =>
    ScuAssociation.open({ host: '127.0.0.1', port: scp.port, callingAet: 'PROTO', calledAet: 'PIPE_SCP', contexts, maxPduLength: 16384, timeouts: TIMEOUTS });
  const socketOf = (assoc: ScuAssociation): Socket => (assoc as unknown as { socket: Socket }).socket;
  const closed = (socket: Socket): Promise<void> => new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  /** The SCP reports a connection's end when its own side closes, which may come after the peer's. */
  const reported = (pattern: RegExp): Promise<void> =>
    new Promise((resolve) => {
      if (errors.some((e) => pattern.test(e))) resolve();
      else scp.on('connectionError', (e) => pattern.test(e) && resolve());
    });

  test('a message on a presentation context that was not accepted: A-ABORT, and the SCP keeps serving', async () => {
    const assoc = await open();
    const socket = socketOf(assoc);
    for (const pdu of encodeMessage(99, { commandField: COMMAND.C_ECHO_RQ, messageId: 1, affectedSopClassUid: VERIFICATION, hasDataset: false }, undefined, 16384)) socket.write(pdu);
    await closed(socket);
    await reported(/protocol error .*presentation context 99/);
    const again = await open();
    assert.equal((await again.echo()).status, 0);
    await again.release();
  });

  test('a dataset fragment before any command: A-ABORT', async () => {
    const assoc = await open();
    const socket = socketOf(assoc);
    const [, header, data] = encodeMessage(1, { commandField: COMMAND.C_STORE_RQ, messageId: 1, hasDataset: true }, Buffer.alloc(8), 16384);
    socket.write(Buffer.concat([header, data]));
    await closed(socket);
    await reported(/dataset fragment received before its command/);
  });

  test('a request we do not serve is answered 0x0211 (unrecognized operation), the association goes on', async () => {
    const assoc = await open();
    // A C-FIND-RQ on the Verification context: answered, not stored, not aborted.
    const reply = await (assoc as unknown as { sendOn(c: unknown, l: string, cmd: unknown): Promise<{ status: number }> }).sendOn(
      assoc.findContext(VERIFICATION), 'C-FIND', { commandField: COMMAND.C_FIND_RQ, affectedSopClassUid: VERIFICATION, priority: 0, hasDataset: false },
    );
    assert.equal(reply.status, 0x0211);
    assert.equal((await assoc.echo()).status, 0);
    await assoc.release();
  });

  test('the A-RELEASE-RP waits for the directory fsyncs of what the association stored', async () => {
    const writer = (scp as unknown as { writer: { flush(): Promise<void> } }).writer;
    const flush = writer.flush.bind(writer);
    const events = [] as string[];
    writer.flush = async (): Promise<void> => {
      events.push('flush started');
      await flush();
      events.push('flush done');
    };
    try {
      const assoc = await open();
      const reply = await assoc.store({ sopClassUid: ct.sopClassUid, sopInstanceUid: ct.sopInstanceUid, transferSyntaxUid: ct.transferSyntaxUid, dataset: ct.dataset });
      assert.equal(reply.status, 0);
      assert.equal(events.length, 0, 'Success does not wait for the directory fsync');
      const started = Date.now();
      await assoc.release();
      events.push('released');
      assert.deepEqual(events, ['flush started', 'flush done', 'released']);
      assert.ok(Date.now() - started < 5000, 'not the 60 s batching delay');
    } finally {
      writer.flush = flush;
    }
  });
});
