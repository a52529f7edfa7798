/**
 * TLS settings: files checked once with every problem listed, a readable private key warned about,
 * key material never in a message or a serialized settings object; the config's tls keys; the
 * one-line explanations of TLS failures.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load';
import { describeConnectionFailure } from '../../src/dicom/dimse-connection-error';
import { PipelineError } from '../../src/errors';
import { describeClientTlsError, describeServerTlsError, looksLikeTls } from '../../src/tls/errors';
import { loadTls, TLS12_CIPHERS, tlsClientOptions } from '../../src/tls/settings';
import { makeCa, opensslDate, type CertFiles, type TestCa } from '../helpers/certs';

describe('loadTls', () => {
  let ca: TestCa;
  let ours: CertFiles;
  let other: CertFiles;
  before(() => {
    ca = makeCa();
    ours = ca.issue('ours');
    other = ca.issue('other');
  });
  after(() => ca?.remove());

  test('good files: one context, TLS 1.2 minimum, host name check on, no key material when serialized', () => {
    const warnings: string[] = [];
    const tls = loadTls({ cert: ours.cert, key: ours.key, ca: ca.cert }, 't', (w) => warnings.push(w));
    assert.deepEqual(warnings, []);
    assert.equal(tls.minVersion, 'TLSv1.2');
    assert.equal(tls.checkHostname, true);
    assert.equal(tls.hasCertificate, true);
    const text = JSON.stringify(tls);
    assert.doesNotMatch(text, /PRIVATE KEY|BEGIN CERTIFICATE/);
    assert.match(text, /ours\.key/, 'file names only');
    assert.equal(tlsClientOptions(tls, '127.0.0.1').rejectUnauthorized, true, 'the chain is always verified');
    assert.equal(tlsClientOptions(tls, '127.0.0.1').servername, undefined, 'no SNI for an IP address');
    assert.equal(tlsClientOptions(tls, 'pacs.example.org').servername, 'pacs.example.org');
    const relaxed = loadTls({ ca: ca.cert, checkHostname: false }, 't', () => undefined);
    assert.equal(relaxed.hasCertificate, false);
    assert.equal(tlsClientOptions(relaxed, 'h').rejectUnauthorized, true, 'no host name check, but still the chain');
    assert.equal(tlsClientOptions(relaxed, 'h').checkServerIdentity?.('h', {} as never), undefined);
  });

  test('BCP 195: TLS 1.2 suites are forward-secret AEAD only', () => {
    for (const suite of TLS12_CIPHERS.split(':')) assert.match(suite, /^(ECDHE|DHE)-.*(GCM|CHACHA20-POLY1305)/);
  });

  test('a private key readable by others: a warning naming the file and the fix, never its contents', () => {
    chmodSync(ours.key, 0o640);
    const warnings: string[] = [];
    loadTls({ cert: ours.cert, key: ours.key, ca: ca.cert }, 't', (w) => warnings.push(w));
    chmodSync(ours.key, 0o600);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /private key .*ours\.key is readable by its group \(mode 640\): chmod 600/);
    assert.doesNotMatch(warnings[0], /BEGIN/);
  });

  test('every problem listed at once, files named, no key material', () => {
    const notPem = join(ca.dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const expired = ca.issue('expired', { startDate: opensslDate(-10), endDate: opensslDate(-1) });
    assert.throws(() => loadTls({ cert: expired.cert, key: other.key, ca: notPem }, 'config file x.json', () => undefined), (err: unknown) => {
      assert.ok(err instanceof PipelineError && err.code === 'E_CONFIG');
      assert.match(err.message, /^TLS settings from config file x\.json have 2 problems:/);
      assert.match(err.message, /tls\.ca: .*not\.pem is not a PEM file/);
      assert.match(err.message, /tls\.cert: the certificate "CN=expired" in .*expired\.pem expired on .*: renew it/);
      assert.doesNotMatch(err.message, /PRIVATE KEY|MII/);
      return true;
    });
    assert.throws(() => loadTls({ cert: ours.cert, key: other.key, ca: ca.cert }, 't', () => undefined), /tls\.key: .*other\.key is not the private key of the certificate in .*ours\.pem/);
    assert.throws(() => loadTls({ cert: ours.cert, ca: ca.cert }, 't', () => undefined), /cert and key go together/);
    assert.throws(() => loadTls({ ca: join(ca.dir, 'absent.pem') }, 'flags', () => undefined, 'flags'), (err: unknown) =>
      err instanceof PipelineError && err.code === 'E_USAGE' && /--tls-ca: cannot read .*absent\.pem \(ENOENT\)/.test(err.message));
    const key = readFileSync(ours.key, 'utf8');
    writeFileSync(join(ca.dir, 'key-as-cert.pem'), key);
    assert.throws(() => loadTls({ cert: join(ca.dir, 'key-as-cert.pem'), key: ours.key, ca: ca.cert }, 't', () => undefined), (err: unknown) =>
      /holds no certificate/.test((err as Error).message) && !(err as Error).message.includes(key.split('\n')[1]));
  });
});

describe('config tls keys', () => {
  const peer = { aet: 'A', host: 'h', port: 104 };
  test('tls: true needs the tls block; local.tls needs cert and key; defaults', () => {
    assert.throws(() => parseConfig({ staging: { ...peer, tls: true }, local: { aet: 'L', port: 1, tls: true } }, 't'), (err: unknown) =>
      /tls: required by local\.tls/.test((err as Error).message) && /tls: required by staging\.tls/.test((err as Error).message));
    assert.throws(() => parseConfig({ local: { aet: 'L', port: 1, tls: true }, tls: { ca: 'ca.pem' } }, 't'), /local\.tls needs "cert" and "key"/);
    assert.throws(() => parseConfig({ tls: { ca: 'ca.pem', minVersion: 'TLSv1.1' } }, 't'), /tls\.minVersion/);
    const config = parseConfig({ staging: peer, tls: { ca: 'ca.pem' } }, 't');
    assert.equal(config.staging?.tls, false);
    assert.deepEqual(config.tls, { ca: 'ca.pem', minVersion: 'TLSv1.2', checkHostname: true });
  });
});

describe('TLS failure lines', () => {
  const at = { peer: 'ARCHIVE@10.0.0.5:2762', host: '10.0.0.5', port: 2762 };
  const tls = { files: { ca: 'ca.pem', cert: 'me.pem' }, hasCertificate: true, minVersion: 'TLSv1.2' } as never;
  const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error('x'), { code });
  test('each client-side failure names the peer and the fix', () => {
    assert.match(describeClientTlsError(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), at, tls)!.message, /certificate of ARCHIVE@10\.0\.0\.5:2762 is not signed by a CA in ca\.pem/);
    assert.match(describeClientTlsError(err('CERT_HAS_EXPIRED'), at, tls)!.message, /ARCHIVE@10\.0\.0\.5:2762 presented an expired certificate/);
    assert.match(describeClientTlsError(err('CERT_NOT_YET_VALID'), at, tls)!.message, /not valid yet: check the clocks/);
    assert.match(describeClientTlsError(err('ERR_TLS_CERT_ALTNAME_INVALID'), at, tls)!.message, /does not name host 10\.0\.0\.5: .*tls\.checkHostname false/);
    assert.match(describeClientTlsError(err('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), at, tls)!.message, /refused our certificate \(me\.pem\)/);
    assert.match(describeClientTlsError(err('ERR_SSL_WRONG_VERSION_NUMBER'), at, tls)!.message, /answered in plain DICOM, not TLS/);
    assert.match(describeClientTlsError(err('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), at, tls)!.message, /TLS 1\.2 or 1\.3/);
    assert.equal(describeClientTlsError(err('ECONNREFUSED'), at, tls), undefined, 'not a TLS failure');
    assert.equal(describeClientTlsError(err('CERT_HAS_EXPIRED'), at, tls)!.code, 'E_TLS');
  });
  test('a TLS record where a PDU should be is recognised (a TLS server answering a plain request with an alert)', () => {
    assert.equal(looksLikeTls(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])), true);
    assert.equal(looksLikeTls(Buffer.from([0x16, 0x03, 0x01])), true);
    assert.equal(looksLikeTls(Buffer.from([0x02, 0x00, 0x00, 0x00])), false, 'A-ASSOCIATE-AC');
    assert.equal(looksLikeTls(Buffer.from([0x07, 0x00])), false, 'A-ABORT');
  });
  test('connection failures: plain and TLS ports confused, explained; TCP errors as before', () => {
    const plain = { peer: at.peer, host: at.host, port: at.port };
    assert.match(describeConnectionFailure({ ...plain, phase: 'associate', answeredInTls: true }).message, /^TLS: 10\.0\.0\.5:2762 answered our plain association request in TLS: .*turn tls on for ARCHIVE@/);
    assert.match(describeConnectionFailure({ ...plain, phase: 'associate', error: err('ECONNRESET') }).message, /^ARCHIVE@10\.0\.0\.5:2762 reset the connection before answering our association request \(if that port is TLS-only/);
    assert.match(describeConnectionFailure({ ...plain, tls, phase: 'tls' }).message, /^TLS: ARCHIVE@10\.0\.0\.5:2762 closed the connection during the TLS handshake: either .* plain \(non-TLS\) DICOM port/);
    assert.match(describeConnectionFailure({ ...plain, tls, phase: 'associate', error: err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') }).message, /did not accept our certificate/, 'a TLS 1.3 refusal arrives after the handshake');
    assert.equal(describeConnectionFailure({ ...plain, phase: 'connect', error: err('ECONNREFUSED') }).message, 'connection refused by 10.0.0.5:2762 (nothing listening there?)');
    assert.equal(describeConnectionFailure({ ...plain }, 'connection closed by').message, 'connection closed by ARCHIVE@10.0.0.5:2762', 'an open association: no hint');
  });
  test('server side', () => {
    assert.match(describeServerTlsError(err('ERR_SSL_HTTP_REQUEST')), /plain DICOM, and this SCP is TLS-only/);
    assert.match(describeServerTlsError(err('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')), /peer refused our certificate/);
  });
});
