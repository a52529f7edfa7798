/**
 * A research archive reached over DICOMweb: Orthanc with Debian's orthanc-dicomweb plugin (1.7),
 * HTTP Basic users, optionally a Lua filter, and optionally HTTPS. Orthanc 1.10.1's own HTTPS
 * ("SslEnabled") crashes with a segmentation fault on the first TLS connection on Debian 12 with
 * libssl3 3.0.22 (checked with curl), so HTTPS is served as many sites do it: a TLS terminator in
 * front of Orthanc's HTTP port (Node's tls here), with a certificate from a throwaway CA made with
 * openssl, and optionally requiring a client certificate from that CA.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Orthanc, type Modality } from './orthanc';
import { freePort } from './ports';

export const DICOMWEB_PLUGIN = process.env.ORTHANC_DICOMWEB_PLUGIN ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
export const WEB_USER = 'stow';
export const WEB_PASSWORD = 'correct-horse-battery';

export interface WebOrthancOptions {
  readonly aeTitle?: string;
  readonly https?: boolean;
  /** With https: refuse clients without a certificate signed by the test CA. */
  readonly requireClientCertificate?: boolean;
  /** Lua source of a ReceivedInstanceFilter etc. */
  readonly lua?: string;
  readonly modalities?: Readonly<Record<string, Modality>>;
}

export interface WebOrthanc {
  readonly orthanc: Orthanc;
  /** The DICOMweb base URL, e.g. https://127.0.0.1:PORT/dicom-web */
  readonly url: string;
  /** PEM bundle of the CA that signed the server certificate (https only). */
  readonly caFile?: string;
  /** A client certificate and key signed by that CA (https only). */
  readonly clientCert?: string;
  readonly clientKey?: string;
  /** A file holding WEB_PASSWORD, and one holding a wrong password. */
  readonly passwordFile: string;
  readonly wrongPasswordFile: string;
  stop(): Promise<void>;
}

interface Certificates {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** A CA, and a server (127.0.0.1, localhost) and a client certificate it signed. */
function makeCertificates(dir: string): Certificates {
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=dicomweb test CA']);
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const name of ['server', 'client']) {
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? '127.0.0.1' : 'dicom-pipeline'}`]);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', 'san.cnf']);
  }
  const at = (f: string): string => join(dir, f);
  return { ca: at('ca.pem'), serverCert: at('server.pem'), serverKey: at('server.key'), clientCert: at('client.pem'), clientKey: at('client.key') };
}

/** TLS on a free loopback port, each connection piped to Orthanc's plain HTTP port. */
async function startTlsTerminator(certs: Certificates, backendPort: number, requireClientCertificate: boolean): Promise<{ server: Server; port: number }> {
  const server = createTlsServer({
    cert: readFileSync(certs.serverCert),
    key: readFileSync(certs.serverKey),
    ca: readFileSync(certs.ca),
    requestCert: requireClientCertificate,
    rejectUnauthorized: requireClientCertificate,
  }, (socket) => {
    const backend = connect(backendPort, '127.0.0.1');
    socket.pipe(backend).pipe(socket);
    socket.on('error', () => backend.destroy());
    backend.on('error', () => socket.destroy());
  });
  server.on('tlsClientError', () => undefined);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port };
}

export async function startWebOrthanc(options: WebOrthancOptions = {}): Promise<WebOrthanc> {
  const dir = mkdtempSync(join(tmpdir(), 'dicomweb-'));
  const certs = options.https ? makeCertificates(dir) : undefined;
  const config: Record<string, unknown> = {
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
    AuthenticationEnabled: true,
    RegisteredUsers: { [WEB_USER]: WEB_PASSWORD },
  };
  if (options.lua) {
    writeFileSync(join(dir, 'filter.lua'), options.lua);
    config.LuaScripts = [join(dir, 'filter.lua')];
  }
  const passwordFile = join(dir, 'password');
  const wrongPasswordFile = join(dir, 'wrong-password');
  writeFileSync(passwordFile, `${WEB_PASSWORD}\n`, { mode: 0o600 });
  writeFileSync(wrongPasswordFile, 'not-the-password\n', { mode: 0o600 });
  let orthanc: Orthanc;
  try {
    orthanc = await Orthanc.start({
      aeTitle: options.aeTitle ?? 'WEBARCH',
      modalities: options.modalities,
      config,
      http: { user: WEB_USER, password: WEB_PASSWORD },
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const tls = certs && (await startTlsTerminator(certs, orthanc.httpPort, !!options.requireClientCertificate));
  return {
    orthanc,
    url: tls ? `https://127.0.0.1:${tls.port}/dicom-web` : `${orthanc.httpUrl}/dicom-web`,
    caFile: certs?.ca,
    clientCert: certs?.clientCert,
    clientKey: certs?.clientKey,
    passwordFile,
    wrongPasswordFile,
    async stop() {
      await new Promise((resolve) => (tls ? tls.server.close(resolve) : resolve(undefined)));
      await orthanc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
