import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLargePart10 } from '../../src/dicom/large-file';
import { findElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { decodeText } from '../../src/dicom/values';
import { encodeDataset } from '../../src/dicom/serialize';
import { tempDir } from '../helpers/anon-env';
import { FIXTURES, runCli } from '../helpers/cli';
import { treeHashes } from '../helpers/files';

const { dir, cleanup } = tempDir('dp-large-');
test.after(cleanup);

const FILES = ['ts/CT_small.dcm', 'ts/MR_small_bigendian.dcm', 'ts/MR_small_implicit.dcm', 'ts/MR_small_RLE.dcm', 'ts/image_dfl.dcm', 'misc/XA_jpeg_lossless_4frames_00191113.dcm', 'ts/JPEG2000.dcm'];

test('the bounded reader sees the same dataset as the in-memory reader, Pixel Data left in the file', () => {
  for (const f of FILES) {
    const path = join(FIXTURES, f);
    const whole = parsePart10(readFileSync(path));
    const large = readLargePart10(path);
    const pixel = large.dataset.find((e) => e.tag === 0x7fe00010)!;
    if (!whole.transferSyntax.deflated) assert.ok(pixel.external, `${f}: Pixel Data stays on disk`);
    const resolved = large.dataset.map((e) => (e.external
      ? { ...e, external: undefined, [e.undefinedLength ? 'fragments' : 'value']: readFileSync(path).subarray(e.external.offset, e.external.offset + e.external.length) }
      : e));
    assert.ok(Buffer.concat(encodeDataset(resolved, large.transferSyntax)).equals(Buffer.concat(encodeDataset(whole.dataset, whole.transferSyntax))), f);
  }
});

test('above the size threshold the CLI streams Pixel Data and writes the same outputs', () => {
  // The three MR_small files share one SOP Instance UID (one image in three encodings): in one input
  // they would all be quarantined as conflicting, so each input holds at most one file per UID.
  const uidOf = (f: string): string => decodeText(findElement(parsePart10(readFileSync(join(FIXTURES, f))).dataset, 0x00080018)!);
  const inputs: string[][] = [];
  for (const f of FILES) {
    const batch = inputs.find((b) => !b.some((g) => uidOf(g) === uidOf(f)));
    if (batch) batch.push(f);
    else inputs.push([f]);
  }
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ allowedModalities: '*', quarantine: { riskySopClasses: false }, profile: { retainInstitutionIdentity: true } }));
  const env = { DICOM_PIPELINE_KEY_FILE: join(dir, 'key') };
  let outputs = 0;
  inputs.forEach((files, n) => {
    const input = join(dir, `in-${n}`);
    files.forEach((f, i) => {
      mkdirSync(join(input, String(i)), { recursive: true });
      copyFileSync(join(FIXTURES, f), join(input, String(i), 'f.dcm'));
    });
    const args = (name: string): string[] => ['anonymize', input, join(dir, `${name}-${n}`, 'out'), '--identity', join(dir, 'id.db'), '--config', config, '--workers', '1'];
    const small = runCli(args('memory'), env);
    assert.equal(small.code, 0, small.stderr);
    const large = runCli(args('streamed'), { ...env, DICOM_PIPELINE_LARGE_FILE_BYTES: '1024' });
    assert.equal(large.code, 0, large.stderr);
    assert.equal(large.stdout.split('\n')[1], small.stdout.split('\n')[1], 'same counts');
    assert.deepEqual(treeHashes(join(dir, `streamed-${n}`, 'out')), treeHashes(join(dir, `memory-${n}`, 'out')));
    outputs += treeHashes(join(dir, `memory-${n}`, 'out')).size;
  });
  assert.ok(outputs >= 7, `every file anonymized (${outputs})`);
});

test('an element after Pixel Data is seen by the rules on the large-file path too (Burned In Annotation after the pixels)', async () => {
  const { part10Bytes, phiDataset } = await import('../helpers/dicom-builder');
  const input = join(dir, 'tail-in');
  mkdirSync(input, { recursive: true });
  // (0028,0301) CS "YES" written after Pixel Data, out of order as some writers do
  const trailing = Buffer.from([0x28, 0x00, 0x01, 0x03, 0x43, 0x53, 0x04, 0x00, 0x59, 0x45, 0x53, 0x20]);
  writeFileSync(join(input, 'a.dcm'), Buffer.concat([part10Bytes(phiDataset()), trailing]));
  const env = { DICOM_PIPELINE_KEY_FILE: join(dir, 'key') };
  for (const threshold of ['1024', String(1 << 30)]) {
    const out = join(dir, `tail-${threshold}`);
    const res = runCli(['anonymize', input, join(out, 'out'), '--identity', join(dir, 'id.db'), '--allowed-modalities', '*'], { ...env, DICOM_PIPELINE_LARGE_FILE_BYTES: threshold });
    assert.equal(res.code, 0, res.stderr);
    assert.match(readFileSync(join(out, 'quarantine', 'quarantine.jsonl'), 'utf8'), /"reason":"burned in annotation"/, `threshold ${threshold}`);
  }
});
