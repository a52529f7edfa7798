/**
 * Synthetic studies for network tests and benchmarks: copies of one fixture with new Study, Series
 * and SOP Instance UIDs (2.25 UUID-derived), written as Part-10 files.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { putElement, removeElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { buildMeta } from '../../src/dicom/part10';
import { encodePart10 } from '../../src/dicom/serialize';
import { encodeAscii, decodeText } from '../../src/dicom/values';
import { findElement } from '../../src/dicom/dataset';

export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

export interface SyntheticLayout {
  readonly studies: number;
  readonly seriesPerStudy: number;
  readonly instancesPerSeries: number;
}

export interface SyntheticFile {
  readonly path: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

export function writeSyntheticStudies(template: string, outDir: string, layout: SyntheticLayout): SyntheticFile[] {
  const parsed = parsePart10(readFileSync(template));
  const sopClassUid = decodeText(findElement(parsed.dataset, 0x00080016)!);
  const files: SyntheticFile[] = [];
  mkdirSync(outDir, { recursive: true });
  for (let s = 0; s < layout.studies; s++) {
    const studyInstanceUid = newUid();
    for (let r = 0; r < layout.seriesPerStudy; r++) {
      const seriesInstanceUid = newUid();
      for (let i = 0; i < layout.instancesPerSeries; i++) {
        const sopInstanceUid = newUid();
        const dataset = [...parsed.dataset];
        // DCMTK (and so Orthanc) drops Data Set Trailing Padding when it sends: keep files comparable.
        removeElement(dataset, 0xfffcfffc);
        putElement(dataset, { tag: 0x0020000d, vr: 'UI', value: encodeAscii(studyInstanceUid, 'UI') });
        putElement(dataset, { tag: 0x0020000e, vr: 'UI', value: encodeAscii(seriesInstanceUid, 'UI') });
        putElement(dataset, { tag: 0x00080018, vr: 'UI', value: encodeAscii(sopInstanceUid, 'UI') });
        putElement(dataset, { tag: 0x00200013, vr: 'IS', value: encodeAscii(String(i + 1), 'IS') });
        const meta = buildMeta({ sopClassUid, sopInstanceUid, transferSyntaxUid: parsed.transferSyntax.uid });
        const path = join(outDir, `s${s}_r${r}_i${i}.dcm`);
        writeFileSync(path, Buffer.concat(encodePart10(meta, dataset, parsed.transferSyntax)));
        files.push({ path, studyInstanceUid, seriesInstanceUid, sopInstanceUid });
      }
    }
  }
  return files;
}
