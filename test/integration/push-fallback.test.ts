/**
 * push to archives that refuse some transfer syntaxes: dcmtk storescp as a store-only archive (by
 * default it takes the three uncompressed syntaxes but not Deflated or compressed ones; with +xi only
 * Implicit VR LE) writing what it receives unchanged (+B), and an Orthanc restricted to Implicit VR
 * LE, which also answers our C-FIND. Files arrive in their own syntax byte for byte where the archive
 * takes it, else converted losslessly (the same dataset for dcmtk's dcmdump as dcmconv's conversion),
 * and compressed files fail with the reason.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { DEFLATED_LE, EXPLICIT_LE, IMPLICIT_LE } from '../../src/dicom/transfer-syntax';
import { datasetDump, dcmconv } from '../helpers/dcmdump';
import { startStorescp, type DcmtkServer } from '../helpers/dcmtk';
import { splitFile, splitPart10, validFixtures } from '../helpers/dicom-files';
import { runCliAsync, type CliResult } from '../helpers/cli';
import { Orthanc } from '../helpers/orthanc';
import { freePort } from '../helpers/ports';

const FAST = ['--connect-timeout', '3', '--timeout', '20'];

/** The SOP Instance UID in the dataset: what a receiver files the instance under (chrJapMulti's meta header says another). */
function instanceUid(path: string): string {
  return decodeText(findElement(parsePart10(readFileSync(path)).dataset, 0x00080018)!);
}

function push(peer: string, dir: string): Promise<CliResult> {
  return runCliAsync(['push', peer, dir, '--aet', 'PIPE', ...FAST], { DICOM_PIPELINE_LOG_LEVEL: 'error' });
}

/** The fixtures pushed: every uncompressed syntax (the MR_small variants share one SOP Instance UID) and two compressed files. */
const SOURCES = [
  'ts/MR_small_implicit.dcm', 'ts/MR_small.dcm', 'ts/MR_small_bigendian.dcm', 'ts/image_dfl.dcm', 'ts/CT_small.dcm',
  'charset/chrJapMulti.dcm', 'misc/MR_siemens_csa_0051.dcm', 'ts/SC_rgb_jpeg_dcmtk.dcm', 'ts/JPGExtended.dcm',
];

type Fixture = ReturnType<typeof validFixtures>[number];

describe('push falls back to a lossless transfer syntax the archive accepts', () => {
  const root = mkdtempSync(join(tmpdir(), 'push-fallback-'));
  const sourceDir = join(root, 'source');
  const fixtures: Fixture[] = validFixtures().filter((f) => SOURCES.includes(f.path));
  const servers: DcmtkServer[] = [];
  const compressed = fixtures.filter((f) => !['1.2.840.10008.1.2', EXPLICIT_LE, DEFLATED_LE, '1.2.840.10008.1.2.2'].includes(f.transferSyntax));

  before(() => {
    mkdirSync(sourceDir);
    for (const f of fixtures) copyFileSync(f.file, join(sourceDir, f.path.replace('/', '_')));
    assert.equal(fixtures.length, SOURCES.length);
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(root, { recursive: true, force: true });
  });

  /** What storescp wrote, by SOP Instance UID and transfer syntax (the MR_small variants share a UID: several files). */
  function received(dir: string): { count: number; find(uid: string, ts: string, matches: (path: string) => boolean): boolean } {
    const files = readdirSync(dir).map((name) => join(dir, name));
    return {
      count: files.length,
      find: (uid, ts, matches) => files.some((p) => instanceUid(p) === uid && splitFile(p).transferSyntaxUid === ts && matches(p)),
    };
  }

  /** Exit 3: the compressed files are not delivered, each with the reason; the rest is stored (storescp cannot confirm: counted delivered). */
  function expectCompressedRefused(res: CliResult, server: DcmtkServer): void {
    assert.equal(res.code, 3, res.stdout + res.stderr);
    assert.match(res.stdout, new RegExp(`stored: ${fixtures.length - compressed.length}\\b`));
    assert.match(res.stdout, new RegExp(`failed: ${compressed.length}\\b`));
    for (const f of compressed) {
      const peer = server.address.replace(/\./g, '\\.');
      assert.match(res.stdout, new RegExp(`${f.path.replace('/', '_')}: archive ${peer} accepts none of [^,]*\\(${f.transferSyntax.replace(/\./g, '\\.')}\\) for SOP class [\\d.]+.*; compressed pixel data is never transcoded`));
    }
  }

  async function storescp(name: string, options: string[]): Promise<{ server: DcmtkServer; dir: string }> {
    const dir = join(root, name);
    mkdirSync(dir);
    const server = await startStorescp(dir, await freePort(), ['+B', '--unique-filenames', ...options]);
    servers.push(server);
    return { server, dir };
  }

  /**
   * Pushes every fixture to a storescp with these options: exit 3 for the compressed files; each
   * other one arrives in sentAs(f), as its own bytes when that is its syntax, else with the dataset
   * dcmdump sees in oracle(f).
   */
  async function pushToStorescp(name: string, options: string[], sentAs: (f: Fixture) => string, oracle: (f: Fixture) => string): Promise<void> {
    const { server, dir } = await storescp(name, options);
    const res = await push(server.address, sourceDir);
    expectCompressedRefused(res, server);
    const got = received(dir);
    assert.equal(got.count, fixtures.length - compressed.length, res.stderr);
    for (const f of fixtures.filter((x) => !compressed.includes(x))) {
      const ts = sentAs(f);
      const same = ts === f.transferSyntax
        ? (path: string) => splitFile(path).dataset.equals(splitFile(f.file).dataset)
        : (path: string) => datasetDump(path) === datasetDump(oracle(f));
      assert.ok(got.find(instanceUid(f.file), ts, same), `${f.path} arrived in ${ts}, the same dataset`);
    }
  }

  test('storescp (uncompressed only): own syntax byte for byte, Deflated sent as Explicit VR LE, compressed refused', async () => {
    await pushToStorescp('default', [], (f) => (f.transferSyntax === DEFLATED_LE ? EXPLICIT_LE : f.transferSyntax), (f) => f.file);
  });

  test('storescp +xi (Implicit VR LE only): every uncompressed file arrives as dcmconv +ti would write it', async () => {
    await pushToStorescp('implicit', ['+xi'], () => IMPLICIT_LE, (f) => {
      const out = join(root, `${f.path.replace('/', '_')}.ti.dcm`);
      dcmconv(f.file, out, '+ti');
      return out;
    });
  });

  test('Orthanc accepting Implicit VR LE only: uncompressed files stored and confirmed, compressed ones fail with the reason, exit 3', async () => {
    const research = await Orthanc.start({
      aeTitle: 'RESEARCH',
      modalities: { pipe: { aeTitle: 'PIPE', host: '127.0.0.1', port: await freePort() } },
      config: { AcceptedTransferSyntaxes: [IMPLICIT_LE] },
    });
    try {
      // One file per SOP Instance UID: Orthanc keeps the first of several.
      const dir = join(root, 'to-orthanc');
      mkdirSync(dir);
      const files = fixtures.filter((f) => !['ts/MR_small.dcm', 'ts/MR_small_implicit.dcm'].includes(f.path));
      for (const f of files) copyFileSync(f.file, join(dir, f.path.replace('/', '_')));
      const res = await push(research.address, dir);
      assert.equal(res.code, 3, res.stdout + res.stderr);
      const uncompressed = files.length - compressed.length;
      assert.match(res.stdout, new RegExp(`stored:\\s+${uncompressed}\\b`));
      assert.match(res.stdout, new RegExp(`confirmed:\\s+${uncompressed}\\b`));
      assert.match(res.stdout, new RegExp(`stored: ${uncompressed} \\(${uncompressed} converted losslessly to a transfer syntax the archive accepts\\)`), 'none of them was in Implicit VR LE');
      for (const f of compressed) {
        assert.match(res.stdout, new RegExp(`${f.path.replace('/', '_')}: archive RESEARCH@127\\.0\\.0\\.1:\\d+ accepts none of [^,]*\\(${f.transferSyntax.replace(/\./g, '\\.')}\\) for SOP class [\\d.]+.*; compressed pixel data is never transcoded`));
      }
      const byUid = new Map((await research.instances()).map((i) => [i.sopInstanceUid, i]));
      for (const f of files.filter((x) => !compressed.includes(x))) {
        const remote = byUid.get(instanceUid(f.file));
        assert.ok(remote, `${f.path} at the destination`);
        const stored = join(root, `orthanc-${f.path.replace('/', '_')}`);
        const bytes = await research.instanceFile(remote.id);
        assert.equal(splitPart10(bytes).transferSyntaxUid, IMPLICIT_LE);
        writeFileSync(stored, bytes);
        const oracle = join(root, `${f.path.replace('/', '_')}.orthanc-ti.dcm`);
        dcmconv(f.file, oracle, '+ti');
        assert.equal(datasetDump(stored), datasetDump(oracle), `${f.path}: the same dataset`);
      }
    } finally {
      await research.stop();
    }
  });
});
