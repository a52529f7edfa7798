/** Comparing DICOM files by their dataset bytes (what must travel unchanged), ignoring the meta header. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMetaGroup } from '../../src/dicom/parse';
import { findElement } from '../../src/dicom/dataset';
import { decodeText } from '../../src/dicom/values';

export const FIXTURES = join(__dirname, '..', '..', '..', 'fixtures');

export interface FixtureEntry {
  readonly path: string;
  readonly valid: boolean;
  readonly transferSyntax: string;
  readonly sopClass: string;
}

/** fixtures/manifest.json entries that are valid DICOM, with absolute paths. */
export function validFixtures(): (FixtureEntry & { file: string })[] {
  const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as FixtureEntry[];
  return manifest.filter((e) => e.valid).map((e) => ({ ...e, file: join(FIXTURES, e.path) }));
}

export interface SplitFile {
  readonly dataset: Buffer;
  readonly transferSyntaxUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
}

export function splitPart10(data: Buffer): SplitFile {
  const { meta, end } = parseMetaGroup(data);
  const text = (tag: number): string => {
    const el = findElement(meta, tag);
    return el ? decodeText(el) : '';
  };
  return { dataset: data.subarray(end), transferSyntaxUid: text(0x00020010), sopInstanceUid: text(0x00020003), sopClassUid: text(0x00020002) };
}

export function splitFile(path: string): SplitFile {
  return splitPart10(readFileSync(path));
}

import type { Element } from '../../src/dicom/dataset';
import { parseDataset } from '../../src/dicom/parse';
import { transferSyntax } from '../../src/dicom/transfer-syntax';

/**
 * Same elements, values, items and fragments, whatever the sequence/item length encoding (defined or
 * undefined). DCMTK-based receivers such as Orthanc rewrite sequences with explicit lengths when they
 * store what they received; everything else must be identical.
 */
export function sameContent(a: SplitFile, b: SplitFile): boolean {
  if (a.transferSyntaxUid !== b.transferSyntaxUid) return false;
  const ts = transferSyntax(a.transferSyntaxUid);
  if (!ts) return false;
  return sameElements(parseDataset(a.dataset, ts), parseDataset(b.dataset, ts));
}

function sameElements(a: readonly Element[], b: readonly Element[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => sameElement(x, b[i]));
}

function sameElement(x: Element, y: Element): boolean {
  if (x.tag !== y.tag || x.vr !== y.vr) return false;
  if (!!x.value !== !!y.value || (x.value && !x.value.equals(y.value!))) return false;
  if (!!x.fragments !== !!y.fragments || (x.fragments && !x.fragments.equals(y.fragments!))) return false;
  const xi = x.items ?? [];
  const yi = y.items ?? [];
  return xi.length === yi.length && xi.every((item, i) => sameElements(item.elements, yi[i].elements));
}
