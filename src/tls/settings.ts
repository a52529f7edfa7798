/**
 * DICOM TLS settings (PS3.15 Annex B, "BCP 195 RFC 8996 / RFC 9325" secure transport profile):
 * TLS 1.2 at least, 1.3 when both sides can, and for TLS 1.2 only forward-secret AEAD cipher suites.
 * The peer's certificate chain is always verified against the configured CA bundle, in both roles;
 * only the host name check of a server's certificate may be turned off.
 *
 * The files are read once and turned into one SecureContext shared by every connection (Node then
 * parses nothing per association). Nothing here ever puts key material into a message: errors name
 * the file and what is wrong with it.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions, type SecureContext, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { isIP } from 'node:net';
import { PipelineError } from '../errors';

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsMinVersion = (typeof TLS_VERSIONS)[number];

/**
 * TLS 1.2 suites allowed (RFC 9325 4.2: ECDHE/DHE with AES-GCM, plus ChaCha20-Poly1305). TLS 1.3
 * suites are all AEAD and stay at OpenSSL's default.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384',
].join(':');

/** What the config's `tls` block or the --tls-* flags give. */
export interface TlsFileSettings {
  /** Our certificate (PEM, may include intermediates); with `key`, presented in both roles. */
  readonly cert?: string;
  readonly key?: string;
  /** CA bundle (PEM) the peer's chain must lead to. */
  readonly ca: string;
  readonly minVersion?: TlsMinVersion;
  /** Check that a server's certificate names the host we connect to (default true). */
  readonly checkHostname?: boolean;
}

interface Pems {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca: Buffer;
}

/**
 * Loaded settings. The PEM bytes sit in a private field: a TlsSettings logged or serialized by
 * mistake shows file names only.
 */
export class TlsSettings {
  readonly #pems: Pems;
  /** Client side: one context for every association we open. */
  readonly context: SecureContext;
  /** The file names, for messages (never their contents). */
  readonly files: { readonly cert?: string; readonly key?: string; readonly ca: string };

  constructor(pems: Pems, files: TlsFileSettings, readonly minVersion: TlsMinVersion, readonly checkHostname: boolean) {
    this.#pems = pems;
    this.context = createSecureContext(this.contextOptions());
    this.files = Object.freeze({ cert: files.cert, key: files.key, ca: files.ca });
    Object.freeze(this);
  }

  /** Whether we present a certificate (we must, as a server). */
  get hasCertificate(): boolean {
    return this.#pems.cert !== undefined;
  }

  contextOptions(): SecureContextOptions {
    return { ca: this.#pems.ca, cert: this.#pems.cert, key: this.#pems.key, minVersion: this.minVersion, ciphers: TLS12_CIPHERS };
  }
}

/**
 * Reads and checks the files, every problem listed at once (E_CONFIG; E_USAGE for flags). `warn`
 * gets one line per private key readable by group or others. `what` names the source in messages
 * ("config file X", "the --tls-* options").
 */
export function loadTls(settings: TlsFileSettings, what: string, warn: (line: string) => void, from: 'config' | 'flags' = 'config'): TlsSettings {
  const problems: string[] = [];
  if ((settings.cert === undefined) !== (settings.key === undefined)) problems.push('cert and key go together: give both or neither');
  const ca = readPem(settings.ca, 'ca', problems);
  const cert = settings.cert === undefined ? undefined : readPem(settings.cert, 'cert', problems);
  const key = settings.key === undefined ? undefined : readKey(settings.key, problems, warn);
  if (ca) checkCertificates(ca, 'ca', settings.ca, problems);
  if (cert) checkCertificates(cert, 'cert', settings.cert!, problems);
  if (cert && key && problems.length === 0) checkPair(cert, key, settings, problems);
  let loaded: TlsSettings | undefined;
  if (problems.length === 0) {
    try {
      loaded = new TlsSettings({ ca: ca!, cert, key }, settings, settings.minVersion ?? 'TLSv1.2', settings.checkHostname ?? true);
    } catch (err) {
      problems.push(`cannot use these files together: ${oneLine(err)}`);
    }
  }
  if (problems.length || !loaded) {
    const name = (p: string): string => (from === 'flags' ? p.replace(/^(cert|key|ca)\b/, '--tls-$1') : `tls.${p}`);
    const list = problems.map((p) => `  ${name(p)}`).join('\n');
    throw new PipelineError(from === 'flags' ? 'E_USAGE' : 'E_CONFIG', `TLS settings from ${what} have ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${list}`);
  }
  return loaded;
}

/** Options of tls.connect to a peer: its chain verified always, its host name unless turned off. */
export function tlsClientOptions(tls: TlsSettings, host: string): ConnectionOptions {
  return {
    secureContext: tls.context,
    rejectUnauthorized: true,
    // SNI only for names: RFC 6066 forbids IP literals there.
    servername: isIP(host) ? undefined : host,
    ...(tls.checkHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}

/** Options of our TLS server: a client certificate is requested; StorageScp refuses any that does not verify. */
export function tlsServerOptions(tls: TlsSettings, handshakeTimeoutMs: number): TlsOptions {
  return {
    ...tls.contextOptions(),
    requestCert: true,
    // Checked by the server itself on every connection, before any DICOM is read (see
    // clientCertificateProblem): Node would drop a bad one without a reason to log.
    rejectUnauthorized: false,
    handshakeTimeout: handshakeTimeoutMs,
    noDelay: true,
  };
}

function readPem(path: string, key: string, problems: string[]): Buffer | undefined {
  try {
    const bytes = readFileSync(path);
    if (!bytes.includes('-----BEGIN ')) {
      problems.push(`${key}: ${path} is not a PEM file (convert it: openssl x509 -inform der -in FILE -out FILE.pem)`);
      return undefined;
    }
    return bytes;
  } catch (err) {
    problems.push(`${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

function readKey(path: string, problems: string[], warn: (line: string) => void): Buffer | undefined {
  const pem = readPem(path, 'key', problems);
  if (!pem) return undefined;
  const mode = statSync(path).mode;
  if (mode & 0o077) warn(`private key ${path} is readable by ${mode & 0o070 ? 'its group' : ''}${(mode & 0o070) && (mode & 0o007) ? ' and ' : ''}${mode & 0o007 ? 'others' : ''} (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`);
  try {
    createPrivateKey(pem);
    return pem;
  } catch (err) {
    // The library's message names the decoder, never the key's bytes.
    const encrypted = pem.includes('ENCRYPTED');
    problems.push(`key: ${path} is not a usable private key${encrypted ? ' (it is encrypted: store it without a passphrase, readable only by the pipeline\'s user)' : ` (${oneLine(err)})`}`);
    return undefined;
  }
}

function checkCertificates(pem: Buffer, key: string, path: string, problems: string[]): void {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    problems.push(`${key}: ${path} holds no certificate`);
    return;
  }
  const now = Date.now();
  for (const block of key === 'cert' ? blocks.slice(0, 1) : blocks) {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(block);
    } catch (err) {
      problems.push(`${key}: ${path} holds a certificate that does not parse (${oneLine(err)})`);
      continue;
    }
    const subject = x509.subject.replace(/\n/g, ', ');
    if (Date.parse(x509.validTo) < now) problems.push(`${key}: the certificate "${subject}" in ${path} expired on ${x509.validTo}: renew it`);
    else if (Date.parse(x509.validFrom) > now) problems.push(`${key}: the certificate "${subject}" in ${path} is not valid before ${x509.validFrom} (check this machine's clock)`);
  }
}

function checkPair(cert: Buffer, key: Buffer, settings: TlsFileSettings, problems: string[]): void {
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) problems.push(`key: ${settings.key} is not the private key of the certificate in ${settings.cert}`);
  } catch {
    /* reported by checkCertificates */
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].replace(/^error:[0-9A-F]+:/, '');
}
