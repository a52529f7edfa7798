import { findElement, putElement, type Element, type Item } from '../dicom/dataset';
import { lookupTag } from '../dicom/dictionary';
import { buildMeta } from '../dicom/part10';
import { parseUnknownSequence, type ParsedFile } from '../dicom/parse';
import { decodeText, decodeTextValues, encodeAscii, textOf } from '../dicom/values';
import { shiftDate, shiftDateTime } from './dates';
import { dummyValue } from './dummy-values';
import type { Identity, PatientPseudonym } from './identity/pseudonyms';
import { methodCodes, type ProfileOptions } from './options';
import { isTechnicalTextTag, type Rule, type RuleBook } from './rules/resolve';
import { fitsVr, isTechnicalText } from './value-checks';
import { PIXEL_DATA, isPrivateCreator, isPrivateTag } from '../dicom/tag';
import { blockKey, creatorsOf, describeRow, keptPrivateRow, type PrivateRules } from './rules/private-rules';
import type { WhiteList } from './white-list';
import { PROFILE_EDITION } from './rules/profile-table';

export const TAGS = {
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  IssuerOfPatientID: 0x00100021,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  StudyID: 0x00200010,
  PatientIdentityRemoved: 0x00120062,
  DeidentificationMethod: 0x00120063,
  DeidentificationMethodCodeSequence: 0x00120064,
  LongitudinalTemporalInformationModified: 0x00280303,
  CodeValue: 0x00080100,
  CodingSchemeDesignator: 0x00080102,
  CodeMeaning: 0x00080104,
} as const;

export interface DeidentifyContext {
  readonly rules: RuleBook;
  readonly identity: Identity;
  readonly whiteList: WhiteList;
  readonly options: ProfileOptions;
  readonly toolVersion: string;
}

export interface DeidentifiedFile {
  readonly meta: Element[];
  readonly dataset: Element[];
  readonly studyUid: string;
  readonly seriesUid: string;
  readonly sopInstanceUid: string;
  readonly patient: PatientPseudonym;
  readonly datesShifted: boolean;
  /** The family name differs from the one first seen with this Patient ID (and issuer). */
  readonly patientNameDiffers: boolean;
  /** Private attributes kept (Retain Safe Private), by row as describeRow names it, with their source. */
  readonly privateKept: Readonly<Record<string, number>>;
}

interface Walk {
  readonly ctx: DeidentifyContext;
  readonly dateOffset: number;
  datesShifted: boolean;
  /** 0 at the top level of the dataset. */
  depth: number;
  readonly privateKept: Record<string, number>;
}

/**
 * Applies the profile to one parsed file. Default-deny: every element goes through its rule, at
 * every depth; what no rule keeps is gone. Must run inside IdentityStore.batch().
 */
export function deidentify(file: ParsedFile, ctx: DeidentifyContext): DeidentifiedFile {
  const top = file.dataset;
  const charset = textOf(top, TAGS.SpecificCharacterSet);
  const patient = patientOf(top, ctx.identity, charset);
  const walk: Walk = { ctx, dateOffset: patient.dateOffsetDays, datesShifted: false, depth: 0, privateKept: {} };
  const dataset = cleanElements(top, walk, charset, true, patient);
  addDeidentificationAttributes(dataset, ctx, walk.datesShifted);

  const uid = (tag: number): string => textOf(dataset, tag);
  const studyUid = uid(TAGS.StudyInstanceUID);
  const seriesUid = uid(TAGS.SeriesInstanceUID);
  const sopInstanceUid = uid(TAGS.SOPInstanceUID);
  const originalStudy = textOf(top, TAGS.StudyInstanceUID);
  if (!ctx.options.retainUids) {
    ctx.identity.recordRole(originalStudy, 'studyuid');
    ctx.identity.recordRole(textOf(top, TAGS.SeriesInstanceUID), 'seriesuid');
    ctx.identity.recordRole(textOf(top, TAGS.SOPInstanceUID), 'sopinstanceuid');
  }
  ctx.identity.linkStudy(studyUid, patient.id);
  const meta = buildMeta({ sopClassUid: uid(TAGS.SOPClassUID), sopInstanceUid, transferSyntaxUid: file.transferSyntax.uid });
  return {
    meta, dataset, studyUid, seriesUid, sopInstanceUid, patient, datesShifted: walk.datesShifted,
    patientNameDiffers: !patient.sameName, privateKept: walk.privateKept,
  };
}

/** One pseudonym per patient (Patient ID + Issuer); without a Patient ID, per study. */
function patientOf(top: readonly Element[], identity: Identity, charset: string): PatientPseudonym & { readonly sameName: boolean } {
  const id = textOf(top, TAGS.PatientID, charset);
  const issuer = textOf(top, TAGS.IssuerOfPatientID, charset);
  const familyName = textOf(top, TAGS.PatientName, charset).split('=')[0].split('^')[0];
  if (id) return identity.patient(id, issuer, familyName);
  return identity.patient(`no-patient-id:${textOf(top, TAGS.StudyInstanceUID)}`, '');
}

function cleanElements(elements: readonly Element[], walk: Walk, inherited: string, top: boolean, patient?: PatientPseudonym): Element[] {
  const own = findElement(elements, TAGS.SpecificCharacterSet);
  const charset = own ? decodeText(own) : inherited;
  const privateRules = walk.ctx.rules.privateRules;
  const out: Element[] = [];
  const creators = privateRules ? creatorsOf(elements) : undefined;
  const usedBlocks = creators && new Set<number>();
  for (const el of elements) {
    let cleaned: Element | undefined;
    if (creators && isPrivateTag(el.tag)) {
      if (isPrivateCreator(el.tag)) continue; // put back below, only where a kept attribute needs it
      cleaned = cleanPrivate(el, creators, privateRules!, walk, charset);
      if (cleaned) usedBlocks!.add(blockKey(el.tag));
    } else {
      cleaned = top ? cleanTopLevel(el, walk, charset, patient!) : cleanElement(el, walk.ctx.rules.rule(el.tag), walk, charset);
    }
    if (cleaned) out.push(cleaned);
  }
  if (usedBlocks?.size) {
    for (const el of elements) if (isPrivateCreator(el.tag) && usedBlocks.has(blockKey(el.tag))) putElement(out, el);
  }
  if (!top) hideLocalCodeMeaning(out);
  return out;
}

/**
 * Retain Safe Private: a private attribute stays, byte for byte, only when its creator and offset
 * are listed and its value fits the listed VR and VM; a UID is remapped like any other, a
 * sequence's items are cleaned like any other item. Everything else private is removed.
 */
function cleanPrivate(el: Element, creators: ReadonlyMap<number, string>, rules: PrivateRules, walk: Walk, charset: string): Element | undefined {
  const row = keptPrivateRow(el, creators, rules);
  if (!row) return undefined;
  let kept: Element | undefined = el;
  if (row.vr === 'SQ') {
    const seq = el.items ? el : openUnknownSequence(el);
    kept = seq ? recurse(seq, walk, charset) : undefined;
  } else if (row.vr === 'UI' && !walk.ctx.options.retainUids) {
    kept = remapUids(el, walk);
  } else if (row.vr === 'DA' || row.vr === 'DT') {
    kept = keptPrivateDate(el, row.vr, walk, charset);
  }
  if (kept) {
    const name = `${describeRow(row)} [${row.source}]`;
    walk.privateKept[name] = (walk.privateKept[name] ?? 0) + 1;
  }
  return kept;
}

/**
 * A date a site rule keeps is a date like any other: shifted by the patient's offset (Modified
 * Dates), kept only with Full Dates, removed without a longitudinal option.
 */
function keptPrivateDate(el: Element, vr: string, walk: Walk, charset: string): Element | undefined {
  const longitudinal = walk.ctx.options.retainLongitudinal;
  if (longitudinal === 'full') return el;
  return longitudinal === 'modified' ? shiftDates(el, vr, walk, charset) : undefined;
}

/**
 * A code from a local scheme (99…, L…) has no published meaning to check its Code Meaning
 * against, and sites type free text there: the meaning is replaced, the code itself kept.
 */
function hideLocalCodeMeaning(item: Element[]): void {
  const scheme = findElement(item, TAGS.CodingSchemeDesignator);
  const meaning = findElement(item, TAGS.CodeMeaning);
  if (!scheme || !meaning?.value?.length || !/^(99|L)/i.test(decodeText(scheme))) return;
  putElement(item, withValue(meaning, dummyValue('LO')));
}

/** Patient name and ID, accession number and study ID get pseudonyms from the identity map. */
function cleanTopLevel(el: Element, walk: Walk, charset: string, patient: PatientPseudonym): Element | undefined {
  switch (el.tag) {
    case TAGS.PatientName: return replaced(el, 'PN', patient.name);
    case TAGS.PatientID: return replaced(el, 'LO', patient.id);
    case TAGS.AccessionNumber: return mapValue(el, walk, charset, 'accession_no');
    case TAGS.StudyID: return mapValue(el, walk, charset, 'study_id');
    case TAGS.PatientIdentityRemoved:
    case TAGS.DeidentificationMethod:
    case TAGS.DeidentificationMethodCodeSequence:
    case TAGS.LongitudinalTemporalInformationModified:
      return undefined; // rewritten from scratch below
    default: return cleanElement(el, walk.ctx.rules.rule(el.tag), walk, charset);
  }
}

function mapValue(el: Element, walk: Walk, charset: string, kind: 'accession_no' | 'study_id'): Element {
  const original = el.items ? '' : decodeText({ ...el, vr: 'SH' }, charset);
  return replaced(el, 'SH', original ? walk.ctx.identity.value(kind, original) : '');
}

/** A pseudonym written with the attribute's own VR, whatever VR (or sequence) the original came as. */
function replaced(el: Element, vr: string, text: string): Element {
  return { tag: el.tag, vr, value: encodeAscii(text, vr) };
}

const EMPTY = Buffer.alloc(0);

function withValue(el: Element, value: Buffer): Element {
  return { tag: el.tag, vr: el.vr, value };
}

function withText(el: Element, text: string): Element {
  return withValue(el, encodeAscii(text, el.vr));
}

/** The VR that says what the value means: the dictionary's for elements that arrived as UN. */
function effectiveVr(el: Element): string {
  if (el.vr !== 'UN') return el.vr;
  return lookupTag(el.tag)?.vr || 'UN';
}

/**
 * Elements no rule may keep, whatever it says: a public attribute whose VR is not one the
 * dictionary allows (text hidden as a time, a sequence where a name belongs), bulk or encapsulated
 * data anywhere but the top-level Pixel Data, and file meta elements inside the dataset.
 */
function malformed(el: Element, depth: number): boolean {
  if (el.tag >>> 16 === 0x0002) return true;
  if (el.tag === PIXEL_DATA) return depth > 0 || (el.vr !== 'OB' && el.vr !== 'OW' && el.vr !== 'UN');
  if (el.fragments || el.external) return true;
  if (isPrivateTag(el.tag) || el.vr === 'UN') return false;
  const entry = lookupTag(el.tag);
  return !!entry && entry.vrs.length > 0 && !entry.vrs.includes(el.vr);
}

/** A kept value must fit its VR; technical strings must look like one. Returns the element to write. */
function keptValue(el: Element, vr: string): Element | undefined {
  if (!fitsVr(vr, el.value)) return undefined;
  if (isTechnicalTextTag(el.tag) && !isTechnicalText(el.value)) return withValue(el, EMPTY);
  return el;
}

function hasValue(el: Element): boolean {
  if (el.items) return el.items.length > 0;
  if (el.fragments) return true;
  return !!el.value && el.value.length > 0 && /[^\0 ]/.test(el.value.toString('latin1'));
}

function cleanElement(original: Element, rule: Rule, walk: Walk, charset: string): Element | undefined {
  if (malformed(original, walk.depth)) return undefined;
  const vr = effectiveVr(original);
  const el = vr === 'SQ' && !original.items ? openUnknownSequence(original) : original;
  if (!el) return undefined; // a sequence we cannot look inside is not kept
  switch (rule.kind) {
    case 'keep':
      return el.items ? recurse(el, walk, charset) : keptValue(el, vr);
    case 'remove':
      return undefined;
    case 'empty':
      return el.items ? { tag: el.tag, vr: el.vr, items: [], undefinedLength: el.undefinedLength } : withValue(el, EMPTY);
    case 'dummy':
      return dummy(el, vr, walk, charset);
    case 'uid':
    case 'refs':
      if (el.items) return recurse(el, walk, charset);
      if (vr === 'UI') return walk.ctx.options.retainUids ? el : remapUids(el, walk);
      return rule.kind === 'uid' ? dummy(el, vr, walk, charset) : undefined;
    case 'conditional':
      if (rule.action === 'X/Z') return cleanElement(el, { kind: 'empty', source: rule.source }, walk, charset);
      return cleanElement(el, { kind: hasValue(el) ? 'dummy' : 'empty', source: rule.source }, walk, charset);
    case 'shiftDates':
      return shiftDates(el, vr, walk, charset);
    case 'cleanDescriptor': {
      if (!el.items && walk.ctx.whiteList.allows(el.tag, decodeText({ ...el, vr }, charset))) return keptValue(el, vr);
      return cleanElement(el, rule.fallback, walk, charset);
    }
    case 'recurse':
      return el.items ? recurse(el, walk, charset) : undefined;
  }
}

/** A sequence that arrived as UN: its items, parsed as Implicit VR LE, so the rules can reach inside. */
function openUnknownSequence(el: Element): Element | undefined {
  const items = el.value && el.value.length ? parseUnknownSequence(el.value) : [];
  return items ? { tag: el.tag, vr: el.vr, items, undefinedLength: false, implicitItems: true } : undefined;
}

function dummy(el: Element, vr: string, walk: Walk, charset: string): Element | undefined {
  if (el.items) return recurse(el, walk, charset);
  if (vr === 'UI') return walk.ctx.options.retainUids ? el : remapUids(el, walk);
  if (el.fragments) return undefined;
  return withValue(el, dummyValue(vr));
}

function recurse(el: Element, walk: Walk, charset: string): Element {
  walk.depth++;
  const items: Item[] = el.items!.map((item) => ({
    elements: cleanElements(item.elements, walk, charset, false),
    undefinedLength: item.undefinedLength,
  }));
  walk.depth--;
  return { tag: el.tag, vr: el.vr, items, undefinedLength: el.undefinedLength, implicitItems: el.implicitItems };
}

function remapUids(el: Element, walk: Walk): Element {
  const values = decodeTextValues(el);
  if (values.every((v) => v === '')) return el;
  return withText(el, values.map((v) => (v ? walk.ctx.identity.uid(v) : v)).join('\\'));
}

/** DA and DT move by the patient's offset; TM stays (whole days keep the time of day). */
function shiftDates(el: Element, vr: string, walk: Walk, charset: string): Element | undefined {
  if (el.items) return recurse(el, walk, charset);
  if (vr === 'TM' || !hasValue(el)) return keptValue(el, vr);
  if (vr !== 'DA' && vr !== 'DT') return cleanElement(el, { kind: 'empty', source: 'table' }, walk, charset);
  const shift = vr === 'DA' ? shiftDate : shiftDateTime;
  const shifted: string[] = [];
  for (const v of decodeTextValues({ ...el, vr })) {
    const s = v === '' ? '' : shift(v, walk.dateOffset);
    if (s === undefined) return withValue(el, EMPTY); // not a date we can shift: empty rather than leak it
    shifted.push(s);
  }
  walk.datesShifted = true;
  return withText(el, shifted.join('\\'));
}

function addDeidentificationAttributes(dataset: Element[], ctx: DeidentifyContext, datesShifted: boolean): void {
  const options = ctx.options;
  const codes = methodCodes(options);
  putElement(dataset, { tag: TAGS.PatientIdentityRemoved, vr: 'CS', value: encodeAscii('YES', 'CS') });
  const method = [`dicom-pipeline ${ctx.toolVersion}`, `PS3.15 ${PROFILE_EDITION} Table E.1-1`, ...codes.map((c) => c.meaning)];
  const siteRules = ctx.rules.privateRules?.siteRules.length ?? 0;
  if (siteRules) method.push(`plus ${siteRules} site private attribute rules`); // beyond Table E.3.10-1: say so
  putElement(dataset, { tag: TAGS.DeidentificationMethod, vr: 'LO', value: encodeAscii(method.map((m) => m.slice(0, 64)).join('\\'), 'LO') });
  putElement(dataset, {
    tag: TAGS.DeidentificationMethodCodeSequence,
    vr: 'SQ',
    undefinedLength: false,
    items: codes.map((c) => ({
      undefinedLength: false,
      elements: [
        { tag: TAGS.CodeValue, vr: 'SH', value: encodeAscii(c.value, 'SH') },
        { tag: TAGS.CodingSchemeDesignator, vr: 'SH', value: encodeAscii('DCM', 'SH') },
        { tag: TAGS.CodeMeaning, vr: 'LO', value: encodeAscii(c.meaning, 'LO') },
      ],
    })),
  });
  const longitudinal = options.retainLongitudinal === 'full' ? 'UNMODIFIED' : datesShifted || options.retainLongitudinal === 'modified' ? 'MODIFIED' : 'REMOVED';
  putElement(dataset, { tag: TAGS.LongitudinalTemporalInformationModified, vr: 'CS', value: encodeAscii(longitudinal, 'CS') });
}
