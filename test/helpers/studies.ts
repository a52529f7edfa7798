import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { putElement } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { encodePart10 } from '../../src/dicom/serialize';
import { encodeAscii } from '../../src/dicom/values';
import { FIXTURES } from './cli';

export interface FakeStudy {
  readonly patientId: string;
  readonly patientName: string;
  readonly studyUid: string;
  readonly modality?: string;
  readonly seriesDescription?: string;
  readonly burnedIn?: boolean;
  readonly instances?: number;
  /** A second series, e.g. { description: 'Patient Protocol', instances: 1 }. */
  readonly extraSeries?: { readonly description: string; readonly instances: number };
}

/** PHI strings every fake study carries, for "no PHI token" assertions. */
export const FAKE_PHI = ['GENERAL HOSPITAL OF TESTING', 'REFERRER^RUTH', '19610203'];

function instance(template: Buffer, s: FakeStudy, series: string, sop: string, description: string): Buffer {
  const file = parsePart10(template);
  const set = (tag: number, vr: string, v: string): void => putElement(file.dataset, { tag, vr, value: encodeAscii(v, vr) });
  set(0x00100020, 'LO', s.patientId);
  set(0x00100010, 'PN', s.patientName);
  set(0x00100030, 'DA', FAKE_PHI[2]);
  set(0x00080080, 'LO', FAKE_PHI[0]);
  set(0x00080090, 'PN', FAKE_PHI[1]);
  set(0x00080050, 'SH', `ACC${s.studyUid.split('.').pop()}`);
  set(0x0020000d, 'UI', s.studyUid);
  set(0x0020000e, 'UI', series);
  set(0x00080018, 'UI', sop);
  set(0x00080060, 'CS', s.modality ?? 'CT');
  set(0x0008103e, 'LO', description);
  if (s.burnedIn) set(0x00280301, 'CS', 'YES');
  const meta = file.meta.map((e) => (e.tag === 0x00020003 ? { ...e, value: encodeAscii(sop, 'UI') } : e));
  return Buffer.concat(encodePart10(meta, file.dataset, file.transferSyntax));
}

/** Files of one synthetic study with fake PHI, from pydicom's CT_small. */
export function fakeStudy(s: FakeStudy): Buffer[] {
  const template = readFileSync(join(FIXTURES, 'ts', 'CT_small.dcm'));
  const out: Buffer[] = [];
  for (let i = 1; i <= (s.instances ?? 2); i++) out.push(instance(template, s, `${s.studyUid}.1`, `${s.studyUid}.1.${i}`, s.seriesDescription ?? 'AXIAL'));
  if (s.extraSeries) {
    for (let i = 1; i <= s.extraSeries.instances; i++) out.push(instance(template, s, `${s.studyUid}.2`, `${s.studyUid}.2.${i}`, s.extraSeries.description));
  }
  return out;
}
