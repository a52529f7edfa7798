/**
 * DICOM TLS with dcmtk 3.6.7 as the other side: storescu +tls into our `listen` (TLS-only), our
 * `push` into storescp +tls. Refusals on both sides: a client certificate from another CA, an
 * expired certificate, plain DICOM into our TLS port, our TLS into a plain port, a server
 * certificate that does not name the host; each one clear line, nothing stored.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeCa, opensslDate, type CertFiles, type TestCa } from '../helpers/certs';
import { BIN, oneLine, runCliAsync } from '../helpers/cli';
import { dcmtkTls, run } from '../helpers/dcmtk';
import { splitFile, validFixtures } from '../helpers/dicom-files';
import { freePort } from '../helpers/ports';
import { stopChild, track } from '../helpers/processes';

const FAST = ['--connect-timeout', '3', '--timeout', '10'];
const CT = validFixtures().find((f) => f.path === 'ts/CT_small.dcm')!.file;

function storedFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}


/** A long-running child (our listen, dcmtk's storescp) and what it printed. */
class Server {
  stdout = '';
  stderr = '';
  constructor(readonly child: ChildProcess) {
    track(child);
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }
  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(what: string, ready: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start`);
}

describe('DICOM TLS with dcmtk', () => {
  const root = mkdtempSync(join(tmpdir(), 'tls-dcmtk-'));
  let ca: TestCa;
  let otherCa: TestCa;
  let ours: CertFiles;
  let peer: CertFiles;
  let expired: CertFiles;

  before(() => {
    ca = makeCa('Pipeline Test CA');
    otherCa = makeCa('Some Other CA');
    ours = ca.issue('pipeline');
    peer = ca.issue('dcmtk');
    expired = ca.issue('expired', { startDate: opensslDate(-30), endDate: opensslDate(-1) });
  });
  after(() => {
    ca?.remove();
    otherCa?.remove();
    rmSync(root, { recursive: true, force: true });
  });

  describe('storescu +tls into our listen', () => {
    const out = join(root, 'listen-out');
    let listen: Server;
    let port = 0;

    before(async () => {
      port = await freePort();
      listen = new Server(spawn(process.execPath, [BIN, 'listen', '--aet', 'PIPE', '--port', String(port), '--out', out,
        '--tls-cert', ours.cert, '--tls-key', ours.key, '--tls-ca', ca.cert], { env: { ...process.env, CI: 'true' } }));
      await until('listen', () => listen.stdout.includes('listening as PIPE'));
    });
    after(() => listen?.stop());

    const storescu = (tls: string[]): ReturnType<typeof run> => run('storescu', [...tls, '-aec', 'PIPE', '127.0.0.1', String(port), CT]);

    test('announces TLS, and a store over mutual TLS arrives intact', async () => {
      assert.match(listen.stdout, /\(DICOM TLS only\)/);
      const res = await storescu(dcmtkTls(peer, ca.cert));
      assert.equal(res.code, 0, res.stderr);
      const stored = storedFiles(out).map(splitFile);
      rmSync(out, { recursive: true, force: true });
      assert.equal(stored.length, 1);
      // storescu re-encodes lengths and padding (see scp-storescu.test.ts); byte-exact receiving
      // over TLS is checked against Orthanc in tls-orthanc.test.ts.
      assert.equal(stored[0].sopInstanceUid, splitFile(CT).sopInstanceUid);
    });

    test('plain DICOM into our TLS port: refused at once, logged, nothing stored', async () => {
      const res = await storescu([]);
      assert.notEqual(res.code, 0);
      await until('the refusal in the log', () => /TLS connection from 127\.0\.0\.1 refused: it spoke plain DICOM, and this SCP is TLS-only/.test(listen.stderr));
      assert.deepEqual(storedFiles(out), []);
    });

    test('our own plain echo into our TLS port: one line saying the port may be TLS-only', async () => {
      const res = await runCliAsync(['echo', `PIPE@127.0.0.1:${port}`, ...FAST]);
      assert.equal(res.code, 1);
      assert.match(oneLine(res.stderr), /^dicom-pipeline: PIPE@127\.0\.0\.1:\d+ (closed|reset) the connection before answering our association request \(if that port is TLS-only.*turn tls on/);
    });

    test('a client certificate from another CA: refused, nothing stored', async () => {
      const res = await storescu(dcmtkTls(otherCa.issue('stranger'), ca.cert));
      assert.notEqual(res.code, 0);
      await until('the refusal in the log', () => /TLS connection from 127\.0\.0\.1 refused: its certificate is not signed by a CA in our tls\.ca bundle/.test(listen.stderr));
      assert.deepEqual(storedFiles(out), []);
    });

    test('an expired client certificate: refused, nothing stored', async () => {
      const res = await storescu(dcmtkTls(expired, ca.cert));
      assert.notEqual(res.code, 0);
      await until('the refusal in the log', () => /TLS connection from 127\.0\.0\.1 refused: its certificate has expired/.test(listen.stderr));
      assert.deepEqual(storedFiles(out), []);
    });

    test('the key never appears in what listen printed', () => {
      assert.doesNotMatch(listen.stdout + listen.stderr, /PRIVATE KEY/);
    });
  });

  describe('our push into storescp +tls', () => {
    const source = join(root, 'to-push');

    before(() => {
      mkdirSync(source);
      copyFileSync(CT, join(source, 'ct.dcm'));
    });

    async function storescp(serverCert: CertFiles, tls = true): Promise<{ server: Server; port: number; out: string }> {
      const port = await freePort();
      const out = mkdtempSync(join(root, 'storescp-'));
      const server = new Server(spawn('storescp', [...(tls ? dcmtkTls(serverCert, ca.cert) : []), '+B', '-aet', 'ARCHIVE', '-od', out, String(port)], { env: { ...process.env, TCP_NODELAY: '1' } }));
      // Ready once it accepts connections (a TLS echo would need our certificates too).
      await until('storescp', () => accepts(port));
      return { server, port, out };
    }

    const push = (port: number, extra: string[] = []): ReturnType<typeof runCliAsync> =>
      runCliAsync(['push', `ARCHIVE@127.0.0.1:${port}`, source, '--aet', 'PIPE', '--tls-cert', ours.cert, '--tls-key', ours.key, '--tls-ca', ca.cert, '--confirm', 'none', '--retries', '0', ...FAST, ...extra]);

    /** storescp can confirm nothing (no C-FIND, no commitment): pushed with --confirm none. */
    function stored(res: { code: number | null; stdout: string; stderr: string }, out: string): void {
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /stored:\s+1/);
      const stored = storedFiles(out);
      assert.equal(stored.length, 1);
      assert.ok(splitFile(stored[0]).dataset.equals(splitFile(CT).dataset), 'byte-identical dataset');
    }

    test('stored over mutual TLS, the bytes we sent unchanged', async () => {
      const { server, port, out } = await storescp(peer);
      try {
        stored(await push(port), out);
      } finally {
        await server.stop();
      }
    });

    test("an expired server certificate: we refuse it, one line", async () => {
      const { server, port, out } = await storescp(expired);
      try {
        const res = await push(port);
        assert.equal(res.code, 1);
        assert.match(oneLine(res.stderr), /^dicom-pipeline: TLS: ARCHIVE@127\.0\.0\.1:\d+ presented an expired certificate/);
        assert.deepEqual(storedFiles(out), []);
      } finally {
        await server.stop();
      }
    });

    test('a server certificate not valid yet: we refuse it, one line', async () => {
      const { server, port, out } = await storescp(ca.issue('future', { startDate: opensslDate(2), endDate: opensslDate(30) }));
      try {
        const res = await push(port);
        assert.equal(res.code, 1);
        assert.match(oneLine(res.stderr), /^dicom-pipeline: TLS: ARCHIVE@127\.0\.0\.1:\d+ presented a certificate that is not valid yet: check the clocks/);
        assert.deepEqual(storedFiles(out), []);
      } finally {
        await server.stop();
      }
    });

    test('a server certificate that does not name the host: refused unless the host name check is off', async () => {
      const { server, port, out } = await storescp(ca.issue('elsewhere', { san: 'DNS:elsewhere.example' }));
      try {
        const res = await push(port);
        assert.equal(res.code, 1);
        assert.match(oneLine(res.stderr), /^dicom-pipeline: TLS: the certificate of ARCHIVE@127\.0\.0\.1:\d+ does not name host 127\.0\.0\.1: .*--tls-no-hostname-check/);
        assert.deepEqual(storedFiles(out), []);
        stored(await push(port, ['--tls-no-hostname-check']), out);
      } finally {
        await server.stop();
      }
    });

    test('our TLS into a plain port: one line saying the port is plain DICOM', async () => {
      const { server, port, out } = await storescp(peer, false);
      try {
        const res = await push(port);
        assert.equal(res.code, 1);
        assert.match(oneLine(res.stderr), /^dicom-pipeline: TLS: .*127\.0\.0\.1:\d+ .*plain.*turn tls off/);
        assert.deepEqual(storedFiles(out), []);
      } finally {
        await server.stop();
      }
    });
  });
});
