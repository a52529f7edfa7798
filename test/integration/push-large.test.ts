/**
 * push sends large instances from disk with bounded memory: a generated multi-frame instance (written
 * by streaming, never in memory) pushed to dcmtk storescp +B (which writes the received bytes
 * unchanged) arrives byte for byte over DICOM TLS, converted (Big Endian to a storescp that takes
 * Implicit VR LE only: OW pixel data swapped on the way), and Deflated inflated on the way, with the
 * push's peak RSS bounded. The 1 GB push -> listen round trip in its own syntax is
 * scp-large-instance.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import { after, describe, test, type TestContext } from 'node:test';
import { runMeasured } from '../../bench/lib/process';
import { findElement } from '../../src/dicom/dataset';
import { ScuAssociation } from '../../src/dicom/dimse-association';
import { readLargePart10 } from '../../src/dicom/large-file';
import { readFileHeader } from '../../src/dicom/part10';
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE } from '../../src/dicom/transfer-syntax';
import { decodeText } from '../../src/dicom/values';
import { BIN } from '../helpers/cli';
import { makeCa } from '../helpers/certs';
import { dcmtkTls, startStorescp, type DcmtkServer } from '../helpers/dcmtk';
import { writeLargeDeflatedInstance, writeLargeInstance, type LargeInstance } from '../helpers/large-instance';
import { freePort } from '../helpers/ports';

const fileSize = (path: string): number => statSync(path).size;

/** Large enough that holding it would show (the goal: peak RSS under 150 MB whatever the size). */
const MEBIBYTES = 320;
const RSS_LIMIT = 150 * 1024 * 1024;
/** Deflating random pixels gains nothing; smaller, yet inflating it whole would pass the limit. */
const DEFLATED_MEBIBYTES = 160;
/** TLS costs CPU on both sides: a smaller instance, still more than the limit if it were held. */
const TLS_MEBIBYTES = 192;

/** SHA-256 of bytes [start, end) of a file, read 1 MiB at a time; `swap16` hashes them byte-swapped. */
function hashRange(path: string, start: number, end: number, swap16 = false): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let at = start; at < end;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - at), at);
      if (n === 0) throw new Error(`${path} ended at ${at}`);
      const part = Buffer.from(buf.subarray(0, n));
      hash.update(swap16 ? part.swap16() : part);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}


describe('push of a large instance: from disk, bounded memory', () => {
  const root = mkdtempSync(join(tmpdir(), 'push-large-'));
  const servers: DcmtkServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(root, { recursive: true, force: true });
  });

  async function pushTo(t: TestContext, name: string, instance: LargeInstance, storescpOptions: string[], pushOptions: string[] = []): Promise<string> {
    const out = join(root, `${name}-received`);
    mkdirSync(out);
    const server = await startStorescp(out, await freePort(), ['+B', ...storescpOptions]);
    servers.push(server);
    const run = await runMeasured({
      command: process.execPath,
      args: [BIN, 'push', server.address, join(root, name), '--aet', 'PIPE', '--connect-timeout', '5', '--timeout', '60', ...pushOptions],
      env: { ...process.env, CI: 'true', DICOM_PIPELINE_LOG_LEVEL: 'error' },
      timeoutMs: 300_000,
    });
    assert.equal(run.exitCode, 0, run.stdout + run.stderr);
    t.diagnostic(`push peak RSS ${(run.peakRssBytes / 1048576).toFixed(0)} MiB (${run.rssSource}) for ${(instance.pixelBytes / 1048576).toFixed(0)} MiB of pixel data`);
    assert.ok(run.peakRssBytes < RSS_LIMIT, `peak RSS ${(run.peakRssBytes / 1048576).toFixed(0)} MiB for ${(instance.pixelBytes / 1048576).toFixed(0)} MiB of pixel data (${run.rssSource})`);
    const files = readdirSync(out);
    assert.equal(files.length, 1, run.stdout + run.stderr);
    return join(out, files[0]);
  }

  test('own syntax over DICOM TLS: the dataset arrives byte for byte', async (t) => {
    const ca = makeCa('Large Push CA');
    try {
      const archive = ca.issue('archive');
      const ours = ca.issue('pipeline');
      mkdirSync(join(root, 'tls'));
      const instance = writeLargeInstance(join(root, 'tls', 'big.dcm'), TLS_MEBIBYTES, EXPLICIT_LE);
      const received = await pushTo(t, 'tls', instance, dcmtkTls(archive, ca.cert), ['--tls-cert', ours.cert, '--tls-key', ours.key, '--tls-ca', ca.cert]);
      const sent = readFileHeader(instance.path).datasetOffset;
      const got = readFileHeader(received).datasetOffset;
      assert.equal(hashRange(received, got, fileSize(received)), hashRange(instance.path, sent, fileSize(instance.path)));
    } finally {
      ca.remove();
    }
  });

  test('converted on the way (Big Endian to Implicit VR LE): header values and swapped pixel data identical', async (t) => {
    mkdirSync(join(root, 'bigendian'));
    const instance = writeLargeInstance(join(root, 'bigendian', 'big.dcm'), MEBIBYTES, EXPLICIT_BE);
    const received = await pushTo(t, 'bigendian', instance, ['+xi']);
    assert.equal(readFileHeader(received).transferSyntaxUid, IMPLICIT_LE);
    const parsed = readLargePart10(received);
    const us = (tag: number): number => findElement(parsed.dataset, tag)!.value!.readUInt16LE(0);
    assert.deepEqual([us(0x00280010), us(0x00280011), us(0x00280100)], [512, 512, 16]);
    assert.equal(decodeText(findElement(parsed.dataset, 0x00080018)!), instance.sopInstanceUid);
    assert.equal(decodeText(findElement(parsed.dataset, 0x00280008)!), String(instance.frames));
    const pixels = findElement(parsed.dataset, 0x7fe00010)!.external!;
    assert.equal(pixels.length, instance.pixelBytes);
    assert.equal(hashRange(received, pixels.offset, pixels.offset + pixels.length), hashRange(instance.path, instance.pixelOffset, instance.pixelOffset + instance.pixelBytes, true));
  });

  test('a large Deflated file to an archive that refuses Deflated: inflated as it is sent, byte for byte the dataset it holds', async (t) => {
    mkdirSync(join(root, 'deflated'));
    const instance = await writeLargeDeflatedInstance(join(root, 'deflated', 'big.dcm'), DEFLATED_MEBIBYTES);
    const received = await pushTo(t, 'deflated', instance, []);
    const got = readFileHeader(received);
    assert.equal(got.transferSyntaxUid, EXPLICIT_LE);
    const inflated = createHash('sha256');
    await pipeline(createReadStream(instance.path, { start: instance.datasetOffset }), createInflateRaw(), async function* (source) {
      for await (const piece of source) inflated.update(piece as Buffer);
    });
    assert.equal(hashRange(received, got.datasetOffset, fileSize(received)), inflated.digest('hex'));
  });

  test('a dataset that cannot be read to its end: that store fails with the reason, the association is aborted, nothing half-sent is kept', async () => {
    const out = join(root, 'broken-received');
    mkdirSync(out);
    const server = await startStorescp(out, await freePort(), ['+B']);
    servers.push(server);
    const sopClassUid = '1.2.840.10008.5.1.4.1.1.7';
    const assoc = await ScuAssociation.open({
      host: '127.0.0.1', port: server.port, callingAet: 'PIPE', calledAet: server.aeTitle, maxPduLength: 65536,
      contexts: [{ abstractSyntax: sopClassUid, transferSyntaxes: [EXPLICIT_LE] }],
      timeouts: { connectMs: 5000, associationMs: 5000, dimseMs: 10_000 },
    });
    async function* brokenDisk(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(3 << 20);
      throw new Error('disk gone');
    }
    await assert.rejects(assoc.store({ sopClassUid, sopInstanceUid: '1.2.3.4', transferSyntaxUid: EXPLICIT_LE, dataset: brokenDisk() }), /cannot read the dataset to send: disk gone/);
    assert.equal(assoc.isOpen, false);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(readdirSync(out), []);
  });
});
