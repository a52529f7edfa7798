/**
 * Silence is explained, not reported as "no response": a port that accepts the connection and then
 * says nothing fails our TLS handshake, or our plain association request, within the timeout, and
 * the line says that the port may speak the other protocol.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { makeCa, type TestCa } from '../helpers/certs';
import { oneLine, runCliAsync } from '../helpers/cli';

describe('a peer that accepts and stays silent', () => {
  let ca: TestCa;
  let server: Server;
  let port = 0;
  const sockets = new Set<Socket>();

  before(async () => {
    ca = makeCa();
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    ca?.remove();
  });

  test('our TLS: the handshake times out, and the line names both likely causes', async () => {
    const ours = ca.issue('ours');
    const res = await runCliAsync(['echo', `SILENT@127.0.0.1:${port}`, '--tls-cert', ours.cert, '--tls-key', ours.key, '--tls-ca', ca.cert, '--connect-timeout', '1']);
    assert.equal(res.code, 1);
    assert.match(oneLine(res.stderr), /^dicom-pipeline: TLS: SILENT@127\.0\.0\.1:\d+ did not complete the TLS handshake within 1 s: either 127\.0\.0\.1:\d+ is a plain \(non-TLS\) DICOM port/);
  });

  test('our plain association: the timeout line says the port may be TLS-only', async () => {
    const res = await runCliAsync(['echo', `SILENT@127.0.0.1:${port}`, '--connect-timeout', '1']);
    assert.equal(res.code, 1);
    assert.match(oneLine(res.stderr), /^dicom-pipeline: SILENT@127\.0\.0\.1:\d+ did not answer the association request within 1 s \(if that port is TLS-only/);
  });
});
