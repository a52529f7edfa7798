/**
 * Throwaway certificates for TLS tests, made with the openssl command (Debian 12: OpenSSL 3.0): a CA,
 * and server/client certificates it signs with SAN IP:127.0.0.1 and DNS:localhost. `openssl ca`
 * takes explicit start and end dates, which is how an expired (or not yet valid) certificate is made
 * without faking the clock. Keys are RSA 2048 (dcmtk and Orthanc accept them), mode 0600.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface TestCa extends CertFiles {
  readonly dir: string;
  /** Issues a certificate signed by this CA. */
  issue(name: string, options?: IssueOptions): CertFiles;
  remove(): void;
}

export interface IssueOptions {
  /** subjectAltName; default IP:127.0.0.1,DNS:localhost. */
  readonly san?: string;
  /** Validity, as openssl ca dates (YYYYMMDDHHMMSSZ); default: from an hour ago for 30 days. */
  readonly startDate?: string;
  readonly endDate?: string;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** openssl ca's date format, `days` from now (negative: in the past). */
export function opensslDate(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

const CA_CONFIG = `
[ca]
default_ca = testca
[testca]
dir = .
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** A new CA in its own temp directory; `remove()` deletes it. */
export function makeCa(name = 'Test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'test-ca-'));
  mkdirSync(join(dir, 'issued'));
  writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  openssl(['req', '-x509', '-config', 'ca.cnf', '-extensions', 'ca_ext', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', `/CN=${name}`], dir);
  chmodSync(join(dir, 'ca.key'), 0o600);
  const issue = (leaf: string, options: IssueOptions = {}): CertFiles => {
    const key = join(dir, `${leaf}.key`);
    const cert = join(dir, `${leaf}.pem`);
    const san = options.san ?? 'IP:127.0.0.1,DNS:localhost';
    openssl(['req', '-new', '-config', 'ca.cnf', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', `${leaf}.csr`, '-subj', `/CN=${leaf}`, '-addext', `subjectAltName=${san}`], dir);
    chmodSync(key, 0o600);
    openssl(['ca', '-batch', '-config', 'ca.cnf', '-extensions', 'leaf_ext', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', `${leaf}.csr`, '-out', cert, '-notext',
      '-startdate', options.startDate ?? opensslDate(-1 / 24), '-enddate', options.endDate ?? opensslDate(30)], dir);
    return { cert, key };
  };
  return { dir, cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key'), issue, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
