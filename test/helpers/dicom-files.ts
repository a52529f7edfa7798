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
