import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { encodePart10 } from '../../src/dicom/serialize';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync } from '../helpers/cli';
import { deadPort } from '../helpers/ports';
import { fakeStudy } from '../helpers/studies';
import { createCredential } from '../../src/web/credentials';
import { WebClient } from '../../src/web/http-client';
import { listStudyInstances } from '../../src/web/qido';
import { startWebOrthanc, WEB_PASSWORD, WEB_USER, type WebOrthanc } from '../helpers/orthanc-web';

const STUDY = '1.2.826.0.1.3680043.10.99.7';
const COUNT = 7;
const { dir, cleanup } = tempDir('dp-web-push-');
const good = join(dir, 'good');
let web: WebOrthanc;

/** COUNT files of one study, as the anonymizer would leave them. */
function writeStudy(target: string, studyUid: string, count: number): string[] {
  mkdirSync(target, { recursive: true });
  return fakeStudy({ patientId: 'ANON1', patientName: 'ANON^ONE', studyUid, instances: count }).map((bytes, i) => {
    const path = join(target, `${i + 1}.dcm`);
    writeFileSync(path, bytes);
    return path;
  });
}

function auth(w: WebOrthanc = web, passwordFile = w.passwordFile): string[] {
  return ['--user', WEB_USER, '--password-file', passwordFile, ...(w.caFile ? ['--tls-ca', w.caFile] : [])];
}

before(async () => {
  web = await startWebOrthanc();
  writeStudy(good, STUDY, COUNT);
});

after(async () => {
  await web?.stop();
  cleanup();
});

test('push URL DIR: STOW-RS in batches, every file stored byte for byte, confirmed by QIDO-RS', async () => {
  await web.orthanc.clear();
  const res = await runCliAsync(['push', web.url, good, ...auth(), '--files-per-request', '3', '--associations', '2']);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, new RegExp(`^stored: ${COUNT}$`, 'm'));
  assert.match(res.stdout, new RegExp(`^confirmed: ${COUNT} \\(QIDO-RS\\)$`, 'm'));
  const stored = await web.orthanc.instances();
  assert.equal(stored.length, COUNT);
  const sent = new Set(writeStudy(join(dir, 'copy'), STUDY, COUNT).map((p) => readFileSync(p).toString('base64')));
  for (const instance of stored) assert.ok(sent.has((await web.orthanc.instanceFile(instance.id)).toString('base64')), 'the archive holds the bytes we sent');
  assert.ok(!res.stdout.includes(WEB_PASSWORD) && !res.stderr.includes(WEB_PASSWORD));
});

test('QIDO-RS by SOP Instance UID list (how each batch is confirmed while the next is sent): exactly the asked-for instances, an unknown UID absent', async () => {
  await web.orthanc.clear();
  const res = await runCliAsync(['push', web.url, good, ...auth(), '--confirm', 'none']);
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  const client = new WebClient({ url: web.url, credential: createCredential({ basic: { user: WEB_USER, passwordFile: web.passwordFile } }), connectTimeoutMs: 5000, responseTimeoutMs: 30000, maxSockets: 1 });
  try {
    const asked = [`${STUDY}.1.2`, `${STUDY}.1.5`, `${STUDY}.1.99`];
    const listing = await listStudyInstances(client, STUDY, asked);
    assert.equal(listing.kind, 'listed');
    if (listing.kind === 'listed') assert.deepEqual([...listing.sopInstanceUids].sort(), [`${STUDY}.1.2`, `${STUDY}.1.5`]);
    const whole = await listStudyInstances(client, STUDY);
    assert.equal(whole.kind === 'listed' ? whole.sopInstanceUids.size : -1, COUNT);
  } finally {
    client.close();
  }
});

test('wrong password: exit 1, one line naming the user and the password file, nothing stored', async () => {
  await web.orthanc.clear();
  const res = await runCliAsync(['push', web.url, good, ...auth(web, web.wrongPasswordFile)]);
  assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stderr, new RegExp(`refused user "${WEB_USER}" with the password in ${web.wrongPasswordFile.replace(/[/.]/g, '\\$&')} \\(HTTP 401 Unauthorized\\)`));
  assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
  assert.doesNotMatch(res.stderr, /not-the-password|\n\s+at /);
  assert.deepEqual(await web.orthanc.instanceIds(), []);
});

test('archive down: exit 1 with a line naming the URL', async () => {
  const url = `http://127.0.0.1:${await deadPort()}/dicom-web`;
  const res = await runCliAsync(['push', url, good, '--retries', '0']);
  assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stderr, new RegExp(`cannot connect to ${url.replace(/[/.]/g, '\\$&')} \\(ECONNREFUSED\\)`));
});

test('a URL with a password in it is refused without echoing it', async () => {
  const res = await runCliAsync(['push', `http://${WEB_USER}:${WEB_PASSWORD}@127.0.0.1:1/dicom-web`, good]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /must not contain a user or password/);
  assert.ok(!res.stderr.includes(WEB_PASSWORD));
});

test('an instance the archive refuses is reported with its Failure Reason; exit 3', async () => {
  await web.orthanc.clear();
  const mixed = join(dir, 'mixed');
  writeStudy(mixed, '1.2.826.0.1.3680043.10.99.8', 3);
  // Orthanc's plugin refuses an instance without Series Instance UID: Failed SOP Sequence, 0xC000.
  const file = parsePart10(readFileSync(join(mixed, '3.dcm')));
  removeElement(file.dataset, 0x0020000e);
  writeFileSync(join(mixed, '3.dcm'), Buffer.concat(encodePart10(file.meta, file.dataset, file.transferSyntax)));
  const res = await runCliAsync(['push', web.url, mixed, ...auth()]);
  assert.equal(res.code, 3, `${res.stdout}\n${res.stderr}`);
  assert.match(res.stdout, /^stored: 2$/m);
  assert.match(res.stdout, /^failed: 1$/m);
  assert.match(res.stdout, /^\s+\S+3\.dcm: refused by the archive: Failure Reason 0xC000 cannot understand \(HTTP 400 Bad Request\)$/m);
  assert.match(res.stderr, /1 of 3 files not delivered to http:\/\/127\.0\.0\.1/);
  assert.equal((await web.orthanc.instanceIds()).length, 2);
});

test('HTTPS: trusted through --tls-ca, client certificate with --tls-cert/--tls-key; without them, a clear TLS line and exit 1', async () => {
  const secure = await startWebOrthanc({ https: true, requireClientCertificate: true, aeTitle: 'WEBTLS' });
  try {
    const client = ['--tls-cert', secure.clientCert!, '--tls-key', secure.clientKey!];
    const ok = await runCliAsync(['push', secure.url, good, ...auth(secure), ...client]);
    assert.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
    assert.equal((await secure.orthanc.instanceIds()).length, COUNT);
    const untrusted = await runCliAsync(['push', secure.url, good, '--user', WEB_USER, '--password-file', secure.passwordFile, ...client]);
    assert.equal(untrusted.code, 1, `${untrusted.stdout}\n${untrusted.stderr}`);
    assert.match(untrusted.stderr, /TLS with https:\/\/127\.0\.0\.1:\d+\/dicom-web failed \(\w+\): check research\.tls\.ca \(--tls-ca\)/);
    const noClientCert = await runCliAsync(['push', secure.url, good, ...auth(secure), '--retries', '0']);
    assert.equal(noClientCert.code, 1, `${noClientCert.stdout}\n${noClientCert.stderr}`);
    // Depending on timing the refusal is a TLS alert or a connection closed after the handshake: both name the way out.
    assert.match(noClientCert.stderr, /https:\/\/127\.0\.0\.1:\d+\/dicom-web.*research\.tls\.cert and key.*--tls-cert, --tls-key/);
    assert.equal(noClientCert.stderr.trim().split('\n').length, 1, noClientCert.stderr);
  } finally {
    await secure.stop();
  }
});

test('stored per STOW-RS but absent from QIDO-RS: unconfirmed, exit 3; no QIDO-RS offered: accepted in auto, not in find', async () => {
  // A Lua filter drops one instance after the plugin has answered it stored; another refuses QIDO-RS (403).
  const lua = [
    'function ReceivedInstanceFilter(dicom, origin, info) return dicom.SOPInstanceUID ~= "' + `${STUDY}.1.2` + '" end',
    'function IncomingHttpRequestFilter(method, uri, ip, username, headers)',
    '  if method == "GET" and string.find(uri, "/instances", 1, true) and string.find(uri, "/dicom-web/studies/' + '1.2.826.0.1.3680043.10.99.9' + '", 1, true) then return false end',
    '  return true',
    'end',
  ].join('\n');
  const filtering = await startWebOrthanc({ lua, aeTitle: 'WEBLUA' });
  try {
    const dropped = await runCliAsync(['push', filtering.url, good, ...auth(filtering)]);
    assert.equal(dropped.code, 3, `${dropped.stdout}\n${dropped.stderr}`);
    assert.match(dropped.stdout, /^confirmed: 6 \(QIDO-RS\)$/m);
    assert.match(dropped.stdout, /^unconfirmed: 1 \(stored per the STOW-RS answer, but absent from the archive's QIDO-RS\) \[not delivered\]$/m);
    assert.match(dropped.stdout, /^\s+\S+\/2\.dcm: unconfirmed: stored per the STOW-RS answer/m);
    const noQido = join(dir, 'no-qido');
    writeStudy(noQido, '1.2.826.0.1.3680043.10.99.9', 2);
    const auto = await runCliAsync(['push', filtering.url, noQido, ...auth(filtering)]);
    assert.equal(auto.code, 0, `${auto.stdout}\n${auto.stderr}`);
    assert.match(auto.stdout, /^unconfirmed: 2 \(the archive offers no way to confirm: QIDO-RS answered HTTP 403\)$/m);
    assert.match(auto.stderr, /warning: stored but unconfirmed: the archive offers no way to confirm: QIDO-RS answered HTTP 403/);
    const find = await runCliAsync(['push', filtering.url, noQido, ...auth(filtering), '--confirm', 'find']);
    assert.equal(find.code, 3, `${find.stdout}\n${find.stderr}`);
    assert.match(find.stdout, /^unconfirmed: 2 \(QIDO-RS answered HTTP 403\) \[not delivered\]$/m);
  } finally {
    await filtering.stop();
  }
});
