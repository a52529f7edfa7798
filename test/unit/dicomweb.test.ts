import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { text as streamText } from 'node:stream/consumers';
import { parseConfig } from '../../src/config/load';
import { createCredential } from '../../src/web/credentials';
import { parseWebUrl, webUrlProblem } from '../../src/web/destination';
import { batchItems, readWebItem } from '../../src/web/files';
import { readInstanceInfo } from '../../src/tools/instance-info';
import { validFixtures } from '../helpers/dicom-files';
import { multipartBody } from '../../src/web/multipart';
import { retryAfterMs, retryDelayMs, isTransientStatus } from '../../src/web/retry';
import { describeFailureReason, parseStowAnswer } from '../../src/web/stow-answer';
import { uidChunks } from '../../src/web/qido';
import { tempDir } from '../helpers/anon-env';

const ref = (uid: string, extra: Record<string, unknown> = {}): object => ({ '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, '00081155': { vr: 'UI', Value: [uid] }, ...extra });

test('STOW-RS answer: Referenced SOP Sequence = stored (with Warning Reason), Failed SOP Sequence = failed with Failure Reason', () => {
  const answer = parseStowAnswer(Buffer.from(JSON.stringify({
    '00081198': { vr: 'SQ', Value: [ref('1.3', { '00081197': { vr: 'US', Value: [0xc000] } }), ref('1.4', { '00081197': { vr: 'US', Value: ['42752'] } })] },
    '00081199': { vr: 'SQ', Value: [ref('1.1'), ref('1.2', { '00081196': { vr: 'US', Value: [0xb000] } })] },
  })));
  assert.deepEqual([...answer!.stored], [['1.1', 0], ['1.2', 0xb000]]);
  assert.deepEqual([...answer!.failed], [['1.3', 0xc000], ['1.4', 0xa700]]);
  assert.equal(describeFailureReason(0xc000), 'Failure Reason 0xC000 cannot understand');
  assert.equal(describeFailureReason(0xa7ff), 'Failure Reason 0xA7FF refused: out of resources');
});

test('STOW-RS answer: empty sequences (Orthanc sends {"vr":"SQ"}), a one-element array, and what is not an answer', () => {
  const empty = parseStowAnswer(Buffer.from('{"00081198":{"vr":"SQ"},"00081199":{"vr":"SQ"}}'));
  assert.equal(empty!.stored.size + empty!.failed.size, 0);
  assert.equal(parseStowAnswer(Buffer.from(JSON.stringify([{ '00081199': { vr: 'SQ', Value: [ref('9.9')] } }])))!.stored.get('9.9'), 0);
  for (const body of ['', '<html>busy</html>', '[]', '{"00080005":{"vr":"CS"}}', 'null']) assert.equal(parseStowAnswer(Buffer.from(body)), undefined, body);
});

test('retries: which statuses, Retry-After in seconds or as a date (capped), our backoff otherwise', () => {
  assert.deepEqual([429, 500, 502, 503, 504, 200, 400, 401, 409, 501].map(isTransientStatus), [true, true, true, true, true, false, false, false, false, false]);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs({ 'retry-after': '7' }, now), 7000);
  assert.equal(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now), 30_000);
  assert.equal(retryAfterMs({ 'retry-after': '86400' }, now), 300_000);
  assert.equal(retryAfterMs({ 'retry-after': 'soon' }, now), undefined);
  assert.equal(retryAfterMs({}, now), undefined);
  assert.equal(retryDelayMs(0, 100), 100);
  assert.equal(retryDelayMs(3, 100), 800);
  assert.equal(retryDelayMs(0, 100, { 'retry-after': '2' }), 2000);
});

test('batches: by count and by size; a file larger than the size limit goes alone', () => {
  const items = [10, 10, 10, 50, 200, 10, 10].map((size, i) => ({ size, i }));
  assert.deepEqual(batchItems(items, 2, 1000).map((b) => b.map((x) => x.i)), [[0, 1], [2, 3], [4, 5], [6]]);
  assert.deepEqual(batchItems(items, 10, 60).map((b) => b.map((x) => x.i)), [[0, 1, 2], [3], [4], [5, 6]]);
});

test('multipart body: exact length, one application/dicom part per file, bytes unchanged; a file that changed fails', async () => {
  const { dir, cleanup } = tempDir('dp-multipart-');
  try {
    const a = join(dir, 'a.dcm');
    const b = join(dir, 'b.dcm');
    writeFileSync(a, Buffer.from('first\r\n--not-a-boundary'));
    writeFileSync(b, Buffer.alloc(300_000, 7));
    const body = multipartBody([{ path: a, size: 23 }, { path: b, size: 300_000 }], 'XyZ');
    assert.equal(body.contentType, 'multipart/related; type="application/dicom"; boundary=XyZ');
    const bytes = Buffer.from(await streamText(body.open()), 'latin1');
    assert.equal(bytes.length, body.length);
    const parts = bytes.toString('latin1').split('--XyZ');
    assert.equal(parts.length, 4);
    assert.equal(parts[1], '\r\nContent-Type: application/dicom\r\n\r\nfirst\r\n--not-a-boundary\r\n');
    assert.equal(parts[2], `\r\nContent-Type: application/dicom\r\n\r\n${'\x07'.repeat(300_000)}\r\n`);
    assert.equal(parts[3], '--\r\n');
    writeFileSync(a, 'changed');
    await assert.rejects(streamText(body.open()), /a\.dcm changed while it was being sent \(23 bytes listed, 7 read\)/);
  } finally {
    cleanup();
  }
});

test('URL: http(s) only, no credential, query or fragment; the refused text is not echoed', () => {
  assert.equal(parseWebUrl('https://pacs.example.org/dicom-web/'), 'https://pacs.example.org/dicom-web');
  assert.throws(() => parseWebUrl('https://me:s3cr3t@pacs.example.org/dicom-web'), (err: Error) => /must not contain a user or password/.test(err.message) && !err.message.includes('s3cr3t'));
  assert.match(webUrlProblem('ftp://pacs/dicom-web')!, /http:\/\/ or https:\/\//);
  assert.match(webUrlProblem('https://pacs/dicom-web?token=abc')!, /query/);
  assert.match(webUrlProblem('RESEARCH@pacs:104')!, /expected an http/);
});

test('credentials: Basic from a password file; a token file re-read when it changes; a token command run again after a refusal', async () => {
  const { dir, cleanup } = tempDir('dp-cred-');
  try {
    writeFileSync(join(dir, 'pw'), 'pa:ss\n');
    const basic = createCredential({ basic: { user: 'ann', passwordFile: join(dir, 'pw') } });
    assert.equal(await basic.header(), `Basic ${Buffer.from('ann:pa:ss').toString('base64')}`);
    assert.equal(basic.description, `user "ann" with the password in ${join(dir, 'pw')}`);

    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'one\n');
    const bearer = createCredential({ bearer: { tokenFile } });
    assert.equal(await bearer.header(), 'Bearer one');
    writeFileSync(tokenFile, 'two-two\n');
    utimesSync(tokenFile, new Date(), new Date(Date.now() + 5000));
    assert.equal(await bearer.header(), 'Bearer two-two');
    writeFileSync(tokenFile, '');
    await assert.rejects(bearer.header(), /the token file \S+ is empty/);

    const counter = join(dir, 'n');
    writeFileSync(counter, '0');
    const command = createCredential({ bearer: { tokenCommand: `n=$(($(cat ${counter})+1)); echo $n > ${counter}; echo tok$n` } });
    assert.equal(await command.header(), 'Bearer tok1');
    assert.equal(await command.header(), 'Bearer tok1', 'cached');
    assert.equal(await command.renew(), true);
    assert.equal(await command.header(), 'Bearer tok2');
    assert.equal(await command.renew(), false, 'one renewal per refusal in a row');
    command.accepted();
    assert.equal(await command.renew(), true);
    const failing = createCredential({ bearer: { tokenCommand: 'echo secret-in-stderr >&2; exit 3' } });
    await assert.rejects(failing.header(), (err: Error) => /token command .* failed \(exit 3\)/.test(err.message) && !err.message.includes('secret'));
  } finally {
    cleanup();
  }
});

test('config: research as a DICOMweb archive, each problem named', () => {
  const config = parseConfig({ research: { url: 'https://pacs/dicom-web', auth: { bearer: { tokenFile: '/etc/t' } }, tls: { ca: '/etc/ca.pem' }, confirm: 'find' } }, 'cfg');
  assert.deepEqual(config.research, { url: 'https://pacs/dicom-web', auth: { bearer: { tokenFile: '/etc/t' } }, tls: { ca: '/etc/ca.pem' }, confirm: 'find' });
  assert.throws(() => parseConfig({ research: { url: 'https://u:p@pacs/dicom-web', auth: { basic: { user: 'a' } }, tls: { key: 'k' }, confirm: 'maybe' } }, 'cfg'), (err: Error) => {
    assert.match(err.message, /cfg has 4 problems/);
    assert.match(err.message, /research\.url: must not contain a user or password/);
    assert.match(err.message, /research\.auth: expected \{"basic"/);
    assert.match(err.message, /research\.tls: cert and key go together/);
    assert.match(err.message, /research\.confirm:/);
    return true;
  });
  assert.throws(() => parseConfig({ research: { aet: 'R', host: 'h' } }, 'cfg'), /research\.port/);
});

test('the UIDs a push files an instance under, from the first 64 KiB, are those of a whole parse (every transfer syntax, deflated too)', () => {
  for (const fixture of validFixtures()) {
    let whole;
    try {
      whole = readInstanceInfo(fixture.file);
    } catch {
      continue; // not an instance (no Study Instance UID): a push lists it as unsendable either way
    }
    const item = readWebItem(fixture.file);
    assert.equal(item.studyInstanceUid, whole.studyUid, fixture.path);
    assert.equal(item.sopInstanceUid, whole.sopInstanceUid, fixture.path);
  }
});

test('QIDO-RS batch confirmation: SOP Instance UIDs split into lists that keep the URL short, every UID once, in order', () => {
  const uids = Array.from({ length: 130 }, (_, i) => `1.2.826.0.1.3680043.8.498.${10 ** 30 + i}`);
  const chunks = uidChunks(uids);
  assert.ok(chunks.length > 1);
  for (const chunk of chunks) assert.ok(chunk.join(',').length <= 3000, `${chunk.join(',').length} characters`);
  assert.deepEqual(chunks.flat(), uids);
  assert.deepEqual(uidChunks(['1.2.3']), [['1.2.3']]);
  assert.deepEqual(uidChunks([]), []);
});
