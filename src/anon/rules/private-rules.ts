import type { Element } from '../../dicom/dataset';
import { isPrivateCreator, isPrivateTag, tagElement, tagGroup } from '../../dicom/tag';
import { binaryValueSize } from '../../dicom/vr';
import type { ProfileOptions } from '../options';
import { fitsVr } from '../value-checks';
import { SAFE_PRIVATE_ROWS, type SafePrivateRow } from './safe-private-table';

/**
 * Retain Safe Private Option (PS3.15 E.3.10): which private attributes may stay. A private
 * attribute is identified by its Private Creator and its offset in the creator's block, never by
 * its tag alone: GEMS_PARM_01's b-value is (0043,1039) when the creator sits at (0043,0010) and
 * (0043,1139) when it sits at (0043,0011). Everything here is default-deny: no creator, an unknown
 * creator, a VR or VM that does not fit the row → removed.
 */

/** A private attribute a site has reviewed for its own scanners (config `privateKeep`). */
export interface SitePrivateRule {
  readonly creator: string;
  /** like "(0029,xx10)" */
  readonly element: string;
  readonly vr: string;
  /** like "1", "3", "1-n" (default "1-n") */
  readonly vm?: string;
}

/**
 * Whether a site rule may apply under these options: an age (AS) says what Patient's Age says, an
 * AE title what a Station AE Title says, so they stay only under the options that keep those
 * (Retain Patient Characteristics, Retain Device Identity). Table E.3.10-1 lists neither VR.
 */
export function siteRuleAllowed(rule: SitePrivateRule, options: Pick<ProfileOptions, 'retainPatientCharacteristics' | 'retainDeviceIdentity'>): boolean {
  if (rule.vr === 'AS') return options.retainPatientCharacteristics;
  if (rule.vr === 'AE') return options.retainDeviceIdentity;
  return true;
}

/** A row that keeps an attribute, and where it comes from (for the report). */
export interface PrivateKeepRow {
  readonly creator: string;
  readonly group: number;
  readonly offset: number;
  readonly vr: string;
  readonly vm: string;
  readonly source: 'table' | 'site';
}

/**
 * VRs a kept private value can be checked against (UN cannot): the ones a site rule may name. PN
 * is not one: a person's name is never safe to keep, and the verifier can only catch names the
 * same file also holds elsewhere.
 */
export const CHECKABLE_PRIVATE_VRS = ['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UR', 'US', 'UT', 'UV'] as const;
const CHECKABLE = new Set<string>(CHECKABLE_PRIVATE_VRS);

const SITE_ELEMENT = /^\(?([0-9A-Fa-f]{4}),xx([0-9A-Fa-f]{2})\)?$/;

/** Parses "(0029,xx10)"; undefined when it is not a private element pattern. */
export function parseSiteElement(text: string): { group: number; offset: number } | undefined {
  const m = SITE_ELEMENT.exec(text.trim());
  if (!m) return undefined;
  const group = parseInt(m[1], 16);
  if ((group & 1) === 0 || group <= 0x0007 || group === 0xffff) return undefined;
  return { group, offset: parseInt(m[2], 16) };
}

/** How a row is named in reports: creator, element pattern and VR; never a value. */
export function describeRow(row: PrivateKeepRow): string {
  const hex = (n: number, digits: number): string => n.toString(16).toUpperCase().padStart(digits, '0');
  return `${row.creator} (${hex(row.group, 4)},xx${hex(row.offset, 2)}) ${row.vr}`;
}

/** Creators compare as PS3.5 7.8.1 values: trailing spaces are padding; case and inner spaces count. */
export function normalizeCreator(text: string): string {
  return text.replace(/ +$/, '');
}

/** Group and offset in one number: (0043,xx39) → 0x004339. */
function slot(group: number, offset: number): number {
  return group * 0x100 + offset;
}

export class PrivateRules {
  /** creator (normalized) → slot → row: two map lookups per private element, no strings built. */
  private readonly rows = new Map<string, Map<number, PrivateKeepRow>>();
  readonly tableRowCount: number;

  /** Table rows first; a site rule for the same attribute replaces the table's (its VR and VM are the reviewed ones). */
  constructor(readonly siteRules: readonly SitePrivateRule[] = [], tableRows: readonly SafePrivateRow[] = SAFE_PRIVATE_ROWS) {
    this.tableRowCount = tableRows.length;
    for (const r of tableRows) this.add({ ...r, source: 'table' });
    for (const s of siteRules) {
      const at = parseSiteElement(s.element);
      if (!at) throw new Error(`privateKeep element "${s.element}" is not like (0029,xx10)`); // the config schema checked it already
      this.add({ creator: normalizeCreator(s.creator), ...at, vr: s.vr, vm: s.vm ?? '1-n', source: 'site' });
    }
  }

  private add(row: PrivateKeepRow): void {
    let slots = this.rows.get(row.creator);
    if (!slots) this.rows.set(row.creator, (slots = new Map()));
    slots.set(slot(row.group, row.offset), row);
  }

  /** The row for a private data element under the given creator, if any. */
  match(creator: string, tag: number): PrivateKeepRow | undefined {
    return this.matchNormalized(normalizeCreator(creator), tag);
  }

  /** As match, for a creator already normalized (creatorsOf does it once per item). */
  matchNormalized(creator: string, tag: number): PrivateKeepRow | undefined {
    return this.rows.get(creator)?.get(slot(tagGroup(tag), tagElement(tag) & 0xff));
  }
}

/** Key of the block a private data element or creator belongs to: group and block number. */
export function blockKey(tag: number): number {
  const element = tagElement(tag);
  return tagGroup(tag) * 0x100 + (isPrivateCreator(tag) ? element : element >> 8);
}

/**
 * Private Creators of one item (or the top level): block key → creator text, normalized. A creator
 * is an LO (UN in Implicit VR files); a reservation sent with any other VR reserves nothing, so
 * its block's elements match no row and are removed.
 */
export function creatorsOf(elements: readonly Element[]): Map<number, string> {
  const creators = new Map<number, string>();
  for (const el of elements) {
    if (!isPrivateCreator(el.tag) || !el.value || el.items || (el.vr !== 'LO' && el.vr !== 'UN')) continue;
    creators.set(blockKey(el.tag), normalizeCreator(el.value.toString('latin1')));
  }
  return creators;
}

function valueCount(vr: string, value: Buffer): number {
  if (value.length === 0) return 0;
  const size = binaryValueSize(vr);
  if (size) return value.length / size;
  if (vr === 'LT' || vr === 'ST' || vr === 'UT' || vr === 'UR' || vr.startsWith('O')) return 1;
  return value.toString('latin1').split('\\').length;
}

/** Whether the number of values is one the row's VM allows ("1", "3-4", "1-n"); an empty value always fits. */
export function fitsVm(vr: string, vm: string, value: Buffer | undefined): boolean {
  if (!value || value.length === 0) return true;
  const m = /^(\d+)(?:-(\d+|n))?$/.exec(vm);
  if (!m) return false;
  const n = valueCount(vr, value);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[2] === 'n' ? Infinity : Number(m[2]);
  return Number.isInteger(n) && n >= min && n <= max;
}

/**
 * The row that keeps this private data element, when its value fits the row: the element must
 * arrive with the row's VR or as UN (implicit VR files, or a receiver that did not know it), and
 * its value must fit that VR and VM. A sequence is judged item by item by the caller.
 */
export function keptPrivateRow(el: Element, creators: ReadonlyMap<number, string>, rules: PrivateRules): PrivateKeepRow | undefined {
  if (!isPrivateTag(el.tag) || isPrivateCreator(el.tag) || tagElement(el.tag) < 0x1000) return undefined;
  const creator = creators.get(blockKey(el.tag));
  if (creator === undefined) return undefined;
  const row = rules.matchNormalized(creator, el.tag);
  if (!row || !CHECKABLE.has(row.vr) || el.fragments || el.external) return undefined;
  if (el.vr !== 'UN' && el.vr !== row.vr) return undefined;
  if (row.vr === 'SQ') return el.items || el.vr === 'UN' ? row : undefined;
  if (el.items) return undefined;
  return fitsVr(row.vr, el.value) && fitsVm(row.vr, row.vm, el.value) ? row : undefined;
}
