import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { parseMetaGroup, parsePart10 } from '../../src/dicom/parse';
import { encodeDataset } from '../../src/dicom/serialize';
import { readFileHeader } from '../../src/dicom/part10';
import { DicomParseError } from '../../src/errors';

const FIXTURES = join(__dirname, '..', '..', '..', 'fixtures');
const manifest: Array<{ path: string; valid?: boolean; transferSyntax?: string }> = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8'));

for (const entry of manifest.filter((e) => e.valid !== false)) {
  test(`${entry.path} round-trips byte for byte in its own transfer syntax`, () => {
    const buf = readFileSync(join(FIXTURES, entry.path));
    const parsed = parsePart10(buf);
    assert.equal(parsed.transferSyntax.uid, entry.transferSyntax);
    const original = buf.subarray(parseMetaGroup(buf).end);
    const written = Buffer.concat(encodeDataset(parsed.dataset, parsed.transferSyntax));
    if (parsed.transferSyntax.deflated) assert.ok(inflateRawSync(written).equals(inflateRawSync(original)));
    else assert.ok(written.equals(original), 'dataset bytes differ');
  });
}

test('readFileHeader reads the meta group without the dataset', () => {
  const header = readFileHeader(join(FIXTURES, 'ts', 'CT_small.dcm'));
  assert.equal(header.transferSyntaxUid, '1.2.840.10008.1.2.1');
  assert.equal(header.sopClassUid, '1.2.840.10008.5.1.4.1.1.2');
  assert.ok(header.datasetOffset > 132);
});

test('broken inputs raise DicomParseError with a position, never a crash', () => {
  for (const name of ['truncated.dcm', 'not-dicom.txt']) {
    assert.throws(() => parsePart10(readFileSync(join(FIXTURES, 'misc', name))), DicomParseError);
  }
  const cut = readFileSync(join(FIXTURES, 'ts', 'CT_small.dcm')).subarray(0, 2000);
  assert.throws(() => parsePart10(cut), /runs past the end|truncated/);
});
