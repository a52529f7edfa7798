/**
 * Lossless transfer syntax conversion (push fallback) against dcmtk: for every fixture in an
 * uncompressed syntax and every target it can be converted to, dcmdump of our output equals dcmdump of
 * dcmconv's conversion of the same file (values, VRs, items; lengths aside), and equals dcmdump of the
 * original wherever the conversion cannot change a VR (big endian or deflated to explicit LE).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { convertDataset, losslessAlternatives } from '../../src/dicom/convert-syntax';
import type { Element } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { buildMeta, readFileHeader } from '../../src/dicom/part10';
import { encodePart10 } from '../../src/dicom/serialize';
import { DEFLATED_LE, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, transferSyntax } from '../../src/dicom/transfer-syntax';
import { datasetDump, dcmconv } from '../helpers/dcmdump';
import { validFixtures } from '../helpers/dicom-files';

const dir = mkdtempSync(join(tmpdir(), 'convert-syntax-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function convertFile(source: string, target: string, out: string): void {
  const parsed = parsePart10(readFileSync(source));
  const header = readFileHeader(source);
  const to = transferSyntax(target)!;
  const dataset = convertDataset(parsed.dataset, parsed.transferSyntax, to);
  writeFileSync(out, Buffer.concat(encodePart10(buildMeta({ ...header, transferSyntaxUid: target }), dataset, to)));
}

const FLAG = { [EXPLICIT_LE]: '+te', [IMPLICIT_LE]: '+ti' } as const;
const uncompressed = validFixtures().filter((f) => !transferSyntax(f.transferSyntax)!.encapsulated);
/**
 * Implicit VR files whose private elements dcmtk's private dictionary knows (GE here): dcmconv +te
 * writes them with that dictionary's VRs, a converter without it writes UN (PS3.5 6.2.2), so the two
 * dumps cannot agree; these are compared as the other fixtures are in the other direction only.
 */
const PRIVATE_VRS_FROM_DCMTK_DICTIONARY = new Set(['private/GE_CT_dwi_like_implicit.dcm']);

describe('lossless transfer syntax conversion, checked with dcmtk', () => {
  test('the fixtures cover every uncompressed syntax', () => {
    const covered = new Set(uncompressed.map((f) => f.transferSyntax));
    for (const ts of [IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE]) assert.ok(covered.has(ts), ts);
  });

  for (const fixture of uncompressed) {
    for (const target of losslessAlternatives(fixture.transferSyntax)) {
      if (target === EXPLICIT_LE && PRIVATE_VRS_FROM_DCMTK_DICTIONARY.has(fixture.path)) continue;
      test(`${fixture.path} -> ${target}: same dataset as dcmconv ${FLAG[target as keyof typeof FLAG]}`, () => {
        const name = fixture.path.replace(/\W/g, '_');
        const ours = join(dir, `${name}.${target}.ours.dcm`);
        const theirs = join(dir, `${name}.${target}.dcmconv.dcm`);
        convertFile(fixture.file, target, ours);
        dcmconv(fixture.file, theirs, FLAG[target as keyof typeof FLAG]);
        assert.equal(readFileHeader(ours).transferSyntaxUid, target);
        assert.equal(datasetDump(ours), datasetDump(theirs));
        const vrsKept = target === EXPLICIT_LE && transferSyntax(fixture.transferSyntax)!.explicitVr;
        if (vrsKept) assert.equal(datasetDump(ours), datasetDump(fixture.file));
      });
    }
  }

  test('compressed syntaxes have no lossless alternative', () => {
    for (const f of validFixtures().filter((x) => transferSyntax(x.transferSyntax)!.encapsulated)) {
      assert.deepEqual(losslessAlternatives(f.transferSyntax), [], f.path);
    }
  });

  test('big endian: multi-byte values and OW pixel data swapped, inside sequences too', () => {
    const be = transferSyntax(EXPLICIT_BE)!;
    const le = transferSyntax(EXPLICIT_LE)!;
    const us = Buffer.from([0x01, 0x02]);
    const elements: Element[] = [
      { tag: 0x00080100, vr: 'SQ', items: [{ elements: [{ tag: 0x00280010, vr: 'US', value: us }], undefinedLength: false }] },
      { tag: 0x00100010, vr: 'PN', value: Buffer.from('AB') },
      { tag: 0x7fe00010, vr: 'OW', value: Buffer.from([1, 2, 3, 4]) },
    ];
    const out = convertDataset(elements, be, le);
    assert.deepEqual([...out[0].items![0].elements[0].value!], [0x02, 0x01]);
    assert.equal(out[1].value!.toString(), 'AB');
    assert.deepEqual([...out[2].value!], [2, 1, 4, 3]);
    assert.deepEqual([...us], [0x01, 0x02], 'source values untouched');
  });

  test('big endian: a private UN value cannot be converted (its byte order is unknown)', () => {
    const elements: Element[] = [{ tag: 0x00091001, vr: 'UN', value: Buffer.from([1, 2]) }];
    assert.throws(() => convertDataset(elements, transferSyntax(EXPLICIT_BE)!, transferSyntax(IMPLICIT_LE)!), /\(0009,1001\) has VR UN in a big endian dataset/);
  });

  test('implicit to explicit: US or SS follows Pixel Representation, OB or OW becomes OW', () => {
    const imp = transferSyntax(IMPLICIT_LE)!;
    const exp = transferSyntax(EXPLICIT_LE)!;
    const elements: Element[] = [
      { tag: 0x00280103, vr: 'US', value: Buffer.from([1, 0]) },
      { tag: 0x00280106, vr: 'US', value: Buffer.from([0xff, 0xff]) },
      { tag: 0x7fe00010, vr: 'OB', value: Buffer.from([1, 2]) },
    ];
    const out = convertDataset(elements, imp, exp);
    assert.deepEqual(out.map((e) => e.vr), ['US', 'SS', 'OW']);
  });

  test('no conversion to a syntax that is not a lossless alternative', () => {
    assert.throws(() => convertDataset([], transferSyntax(EXPLICIT_LE)!, transferSyntax(EXPLICIT_BE)!), /no lossless conversion/);
    assert.throws(() => convertDataset([], transferSyntax('1.2.840.10008.1.2.4.50')!, transferSyntax(EXPLICIT_LE)!), /no lossless conversion/);
  });
});
