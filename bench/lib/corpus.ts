import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { putElement, type Element } from '../../src/dicom/dataset';
import { parsePart10 } from '../../src/dicom/parse';
import { encodePart10 } from '../../src/dicom/serialize';
import { encodeAscii } from '../../src/dicom/values';
import { randomDigits, randomUid, seededRng, type Rng } from './random';

/**
 * Synthetic corpora for benchmarks: one real fixture file copied many times, each copy with its own
 * Study/Series/SOP Instance UIDs and fake PHI, everything else byte-identical. Patients, studies and
 * series nest as in a real archive, so identity maps see realistic reuse (many SOPs per series,
 * several studies per patient).
 */

export interface CorpusShape {
  readonly files: number;
  readonly patients: number;
  readonly studiesPerPatient: number;
  readonly seriesPerStudy: number;
}

export interface PlannedFile {
  readonly patient: number;
  readonly study: number;
  readonly series: number;
  /** 1-based within its series. */
  readonly instance: number;
}

/** A shape for n files as in our benchmarks: ~100 files per patient, 4 studies of one series each. */
export function defaultShape(files: number): CorpusShape {
  return { files, patients: Math.max(1, Math.round(files / 100)), studiesPerPatient: 4, seriesPerStudy: 1 };
}

/** Spreads shape.files over patients × studies × series as evenly as possible (earlier series get the remainder). */
export function planCorpus(shape: CorpusShape): PlannedFile[] {
  const { files, patients, studiesPerPatient, seriesPerStudy } = shape;
  if (!(files >= 0) || !(patients >= 1) || !(studiesPerPatient >= 1) || !(seriesPerStudy >= 1)) throw new Error('corpus shape needs files >= 0 and at least one patient, study and series');
  const seriesCount = patients * studiesPerPatient * seriesPerStudy;
  const base = Math.floor(files / seriesCount);
  const extra = files % seriesCount;
  const out: PlannedFile[] = [];
  let s = 0;
  for (let patient = 0; patient < patients; patient++) {
    for (let study = 0; study < studiesPerPatient; study++) {
      for (let series = 0; series < seriesPerStudy; series++, s++) {
        const count = base + (s < extra ? 1 : 0);
        for (let instance = 1; instance <= count; instance++) out.push({ patient, study, series, instance });
      }
    }
  }
  return out;
}

const FAMILY = ['DOE', 'SMITH', 'GARCIA', 'NGUYEN', 'MUELLER', 'ROSSI', 'KOWALSKI', 'OKAFOR', 'TANAKA', 'LINDQVIST', 'DUBOIS', 'PETROV'];
const GIVEN = ['JANE', 'JOHN', 'MARIA', 'WEI', 'FATIMA', 'LUCAS', 'ANNA', 'OMAR', 'SOFIA', 'PIETER', 'AIKO', 'NOAH'];
const INSTITUTIONS = ['ST MARY GENERAL HOSPITAL', 'RIVERSIDE MEDICAL CENTER', 'NORTHGATE IMAGING CLINIC', 'UNIVERSITY HOSPITAL EAST'];

export interface FakePatient {
  readonly name: string;
  readonly id: string;
  readonly birthDate: string;
}

export interface FakeStudy {
  readonly studyUid: string;
  readonly accession: string;
  readonly institution: string;
  readonly referringPhysician: string;
  readonly description: string;
}

export function fakePatient(rng: Rng): FakePatient {
  const initial = String.fromCharCode(65 + rng.int(0, 25));
  const year = rng.int(1940, 2000);
  const month = String(rng.int(1, 12)).padStart(2, '0');
  const day = String(rng.int(1, 28)).padStart(2, '0');
  return { name: `${rng.pick(FAMILY)}^${rng.pick(GIVEN)}^${initial}`, id: `MRN${randomDigits(rng, 7)}`, birthDate: `${year}${month}${day}` };
}

export function fakeStudy(rng: Rng): FakeStudy {
  return {
    studyUid: randomUid(rng),
    accession: `ACC${randomDigits(rng, 8)}`,
    institution: rng.pick(INSTITUTIONS),
    referringPhysician: `${rng.pick(FAMILY)}^${rng.pick(GIVEN)}`,
    description: 'CT CHEST W/CONTRAST',
  };
}

/** Text elements (tag, VR, value) that one corpus file gets on top of the fixture. */
export function corpusAttributes(patient: FakePatient, study: FakeStudy, seriesUid: string, seriesNumber: number, sopUid: string, instance: number): [number, string, string][] {
  return [
    [0x00080018, 'UI', sopUid],
    [0x00080050, 'SH', study.accession],
    [0x00080080, 'LO', study.institution],
    [0x00080090, 'PN', study.referringPhysician],
    [0x00081030, 'LO', study.description],
    [0x00100010, 'PN', patient.name],
    [0x00100020, 'LO', patient.id],
    [0x00100030, 'DA', patient.birthDate],
    [0x0020000d, 'UI', study.studyUid],
    [0x0020000e, 'UI', seriesUid],
    [0x00200011, 'IS', String(seriesNumber)],
    [0x00200013, 'IS', String(instance)],
  ];
}

export interface CorpusOptions {
  readonly fixture: string;
  readonly outDir: string;
  readonly shape: CorpusShape;
  readonly seed?: number;
}

export interface Corpus {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  readonly patients: number;
  readonly studies: number;
  readonly series: number;
}

/** Writes the corpus as <outDir>/p###/st#/se#/IM####.dcm. Deterministic for a given seed and fixture. */
export function generateCorpus(options: CorpusOptions): Corpus {
  const source = parsePart10(readFileSync(options.fixture));
  if (source.bareDataset) throw new Error(`${options.fixture} has no Part-10 header`);
  const rng = seededRng(options.seed ?? 20240601);
  const patients = new Map<number, FakePatient>();
  const studies = new Map<string, FakeStudy>();
  const series = new Map<string, string>();
  let bytes = 0;
  const plan = planCorpus(options.shape);
  for (const f of plan) {
    let patient = patients.get(f.patient);
    if (!patient) patients.set(f.patient, (patient = fakePatient(rng)));
    const studyKey = `${f.patient}/${f.study}`;
    let study = studies.get(studyKey);
    if (!study) studies.set(studyKey, (study = fakeStudy(rng)));
    const seriesKey = `${studyKey}/${f.series}`;
    let seriesUid = series.get(seriesKey);
    if (!seriesUid) series.set(seriesKey, (seriesUid = randomUid(rng)));
    const sopUid = randomUid(rng);

    const dataset: Element[] = [...source.dataset];
    for (const [tag, vr, text] of corpusAttributes(patient, study, seriesUid, f.series + 1, sopUid, f.instance)) {
      putElement(dataset, { tag, vr, value: encodeAscii(text, vr) });
    }
    const meta: Element[] = [...source.meta];
    putElement(meta, { tag: 0x00020003, vr: 'UI', value: encodeAscii(sopUid, 'UI') });

    const dir = join(options.outDir, `p${String(f.patient + 1).padStart(3, '0')}`, `st${f.study + 1}`, `se${f.series + 1}`);
    mkdirSync(dir, { recursive: true });
    const data = Buffer.concat(encodePart10(meta, dataset, source.transferSyntax));
    writeFileSync(join(dir, `IM${String(f.instance).padStart(4, '0')}.dcm`), data);
    bytes += data.length;
  }
  return { dir: options.outDir, files: plan.length, bytes, patients: patients.size, studies: studies.size, series: series.size };
}
