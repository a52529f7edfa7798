import type { Element, Item } from '../dicom/dataset';
import { findElement } from '../dicom/dataset';
import { lookupTag } from '../dicom/dictionary';
import { parseUnknownSequence } from '../dicom/parse';
import { PIXEL_DATA, formatTag, isPrivateCreator, isPrivateTag } from '../dicom/tag';
import { decodeText, decodeTextValues } from '../dicom/values';
import { DUMMY_TEXTS } from './dummy-values';
import type { ProfileOptions } from './options';
import { isIdentifierKeyword, normalizeForMatch, PhiIgnore, PhiTokens } from './phi-tokens';
import type { RuleBook } from './rules/resolve';
import { creatorsOf, keptPrivateRow, type PrivateRules } from './rules/private-rules';
import type { WhiteList } from './white-list';

/** VRs whose values can name or date a person; numbers, codes and times are too generic to search for. */
const TOKEN_VRS = new Set(['AE', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT', 'UR']);
const DATE_VRS = new Set(['DA', 'DT']);
/** Free-text VRs: searched for every token; other values (codes, numbers, UIDs, bytes) for strong tokens. */
const FREE_TEXT_VRS = new Set(['AE', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT', 'UR', 'DA', 'DT']);
const CHARSET = 0x00080005;
/** Values that describe the equipment, not a person: a removed value equal to one of them is no token. */
const EQUIPMENT = [0x00080070, 0x00081090];
/** An offset like -0500 is no identifier, and reappears in every shifted date-time. */
const NOT_TOKENS = new Set([0x00080201]);
/** Code Value, Coding Scheme Designator, Code Meaning, Long and URN Code Value: vocabulary, not free text. */
const CODED = new Set([0x00080100, 0x00080102, 0x00080104, 0x00080119, 0x00080120]);
const UID_LIKE = /[0-9]+(?:\.[0-9]+){3,}/g;
/** VRs whose bytes are characters; every other value is searched as raw bytes (latin1). */
const TEXTUAL_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);

export function keywordOf(tag: number): string {
  return lookupTag(tag)?.keyword || (isPrivateTag(tag) ? `private ${formatTag(tag)}` : formatTag(tag));
}

/** Values never counted as PHI: the site's white list and our own dummy values, normalized as tokens are. */
export function phiIgnoreSet(whiteList: WhiteList): PhiIgnore {
  return new PhiIgnore(new Set<string>([...whiteList.allValues(), ...DUMMY_TEXTS].map(normalizeForMatch)));
}

/** What a value means: the dictionary's VR when the element came as UN or with a VR the dictionary does not allow. */
function vrOf(el: Element): string {
  const entry = isPrivateTag(el.tag) ? undefined : lookupTag(el.tag);
  if (!entry || !entry.vr) return el.vr;
  return el.vr === 'UN' || (entry.vrs.length > 0 && !entry.vrs.includes(el.vr)) ? entry.vr : el.vr;
}

/** Items of a sequence, including one that arrived as UN with a defined length. */
function itemsOf(el: Element): readonly Item[] | undefined {
  if (el.items) return el.items;
  return vrOf(el) === 'SQ' && el.value && el.value.length ? parseUnknownSequence(el.value) : undefined;
}

/**
 * Second line of defence, independent of how the cleaning was done: from the ORIGINAL, every value
 * that the rules do not keep (at every depth, private data included) becomes a token; then the
 * OUTPUT is searched, at every depth, for any of them.
 */
export function collectPhiTokens(original: readonly Element[], rules: RuleBook, options: ProfileOptions, whiteList: WhiteList, ignore: PhiIgnore = phiIgnoreSet(whiteList)): PhiTokens {
  const equipment = EQUIPMENT.map((tag) => findElement(original, tag)).filter((e): e is Element => !!e?.value).map((e) => normalizeForMatch(decodeText(e)));
  const tokens = new PhiTokens(ignore, new Set(equipment));
  const datesArePhi = options.retainLongitudinal !== 'full';
  const privateRules = rules.privateRules;
  const walk = (elements: readonly Element[], inherited: string): void => {
    const own = findElement(elements, CHARSET);
    const charset = own ? decodeText(own) : inherited;
    const creators = privateRules ? creatorsOf(elements) : undefined;
    for (const el of elements) {
      // A private attribute Retain Safe Private keeps is no token (it is in the output by design), but
      // the output still searches it for every other token; a kept sequence's items are walked as items.
      const keptPrivate = creators && isPrivateTag(el.tag) ? keptPrivateRow(el, creators, privateRules!) : undefined;
      const items = keptPrivate?.vr === 'SQ' && !el.items ? (el.value?.length ? parseUnknownSequence(el.value) : []) : itemsOf(el);
      if (items) {
        for (const item of items) walk(item.elements, charset);
        continue;
      }
      if (keptPrivate) {
        // A kept UID is remapped, a kept date shifted: the original stays a token.
        if (keptPrivate.vr === 'UI' && !options.retainUids && el.value?.length) tokens.addUid(decodeText({ ...el, vr: 'UI' }), el.tag);
        if (datesArePhi && DATE_VRS.has(keptPrivate.vr) && el.value?.length) tokens.addDate(decodeText({ ...el, vr: keptPrivate.vr }), el.tag);
        continue;
      }
      if (!el.value || el.value.length === 0 || isPrivateCreator(el.tag) || NOT_TOKENS.has(el.tag)) continue; // a creator names a vendor, not a person
      const rule = rules.rule(el.tag);
      const vr = vrOf(el);
      if (rule.kind === 'keep' && !isPrivateTag(el.tag)) continue;
      if (rule.kind === 'cleanDescriptor' && whiteList.allows(el.tag, decodeText({ ...el, vr }, charset))) continue;
      if (vr === 'UI') {
        if (!options.retainUids) tokens.addUid(decodeText(el), el.tag);
      } else if (datesArePhi && DATE_VRS.has(vr)) {
        tokens.addDate(decodeText({ ...el, vr }), el.tag);
      } else if (TOKEN_VRS.has(vr)) {
        const strong = vr === 'PN' || DATE_VRS.has(vr) || isIdentifierKeyword(lookupTag(el.tag)?.keyword ?? '');
        tokens.addText(decodeText({ ...el, vr }, charset), el.tag, vr, strong);
      } else if (isPrivateTag(el.tag) && (vr === 'UN' || vr === 'OB')) {
        tokens.addText(el.value.toString('latin1').replace(/[^\x20-\x7e]+/g, ' '), el.tag, 'LT', false);
      }
    }
  };
  walk(original, '');
  return tokens;
}

export interface VerifyHit {
  /** Keyword of the original attribute whose value was found (never the value itself). */
  readonly keyword: string;
}

/**
 * What an output value means. A kept private attribute that travels as UN (Implicit VR files) is
 * read per the row that kept it: searched as the text (or sequence) it is, not as opaque bytes.
 */
function outputVrOf(el: Element, creators: ReadonlyMap<number, string> | undefined, rules: PrivateRules | undefined): string {
  if (el.vr !== 'UN' || !creators || !isPrivateTag(el.tag)) return vrOf(el);
  return keptPrivateRow(el, creators, rules!)?.vr ?? el.vr;
}

/** Searches every value of the output for the tokens; returns the first hit. */
export function findPhi(output: readonly Element[], tokens: PhiTokens, privateRules?: PrivateRules): VerifyHit | undefined {
  const hit = (source: number): VerifyHit => ({ keyword: keywordOf(source) });
  const walk = (elements: readonly Element[], inherited: string, depth = 0): VerifyHit | undefined => {
    const own = findElement(elements, CHARSET);
    const charset = own ? decodeText(own) : inherited;
    const creators = privateRules ? creatorsOf(elements) : undefined;
    for (const el of elements) {
      const vr = outputVrOf(el, creators, privateRules);
      const items = el.items ?? (vr === 'SQ' && el.value?.length ? parseUnknownSequence(el.value) : undefined);
      if (items) {
        for (const item of items) {
          const found = walk(item.elements, charset, depth + 1);
          if (found) return found;
        }
        continue;
      }
      if (!el.value || el.value.length === 0 || (el.tag === PIXEL_DATA && depth === 0)) continue;
      const binary = !TEXTUAL_VRS.has(vr);
      const text = binary ? el.value.toString('latin1') : decodeText({ ...el, vr }, charset);
      if (vr === 'UI') {
        for (const uid of decodeTextValues({ ...el, vr })) {
          const source = tokens.uids.get(uid);
          if (source !== undefined) return hit(source);
        }
      }
      const source = tokens.findIn(normalizeForMatch(text), !FREE_TEXT_VRS.has(vr) || CODED.has(el.tag));
      if (source !== undefined) return hit(source);
      for (const candidate of text.match(UID_LIKE) ?? []) {
        const uidSource = tokens.uids.get(candidate);
        if (uidSource !== undefined) return hit(uidSource);
      }
    }
    return undefined;
  };
  return walk(output, '');
}
