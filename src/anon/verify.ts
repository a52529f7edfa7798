import type { Element, Item } from '../dicom/dataset';
import { findElement } from '../dicom/dataset';
import { lookupTag } from '../dicom/dictionary';
import { parseUnknownSequence } from '../dicom/parse';
import { PIXEL_DATA, formatTag, isPrivateCreator, isPrivateTag } from '../dicom/tag';
import { decodeText, decodeTextValues } from '../dicom/values';
import { DUMMY_TEXTS } from './dummy-values';
import type { ProfileOptions } from './options';
import { isIdentifierKeyword, normalizeForMatch, PhiTokens } from './phi-tokens';
import type { RuleBook } from './rules/resolve';
import type { WhiteList } from './white-list';

/** VRs whose values can name or date a person; numbers, codes and times are too generic to search for. */
const TOKEN_VRS = new Set(['AE', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT', 'UR']);
const DATE_VRS = new Set(['DA', 'DT']);
/** Opaque values searched as text: private or unknown data that might carry names. */
const OPAQUE_SCAN_LIMIT = 65_536;
const CHARSET = 0x00080005;
/** Code Value, Coding Scheme Designator, Code Meaning, Long and URN Code Value: vocabulary, not free text. */
const CODED = new Set([0x00080100, 0x00080102, 0x00080104, 0x00080119, 0x00080120]);
const UID_LIKE = /[0-9]+(?:\.[0-9]+){3,}/g;

export function keywordOf(tag: number): string {
  return lookupTag(tag)?.keyword || (isPrivateTag(tag) ? `private ${formatTag(tag)}` : formatTag(tag));
}

/** Values never counted as PHI: the site's white list and our own dummy values. */
export function phiIgnoreSet(whiteList: WhiteList): ReadonlySet<string> {
  return new Set<string>([...whiteList.allValues(), ...[...DUMMY_TEXTS].map(normalizeForMatch)]);
}

function vrOf(el: Element): string {
  return el.vr === 'UN' ? lookupTag(el.tag)?.vr || 'UN' : el.vr;
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
export function collectPhiTokens(original: readonly Element[], rules: RuleBook, options: ProfileOptions, whiteList: WhiteList, ignore: ReadonlySet<string> = phiIgnoreSet(whiteList)): PhiTokens {
  const tokens = new PhiTokens(ignore);
  const datesArePhi = options.retainLongitudinal !== 'full';
  const walk = (elements: readonly Element[], inherited: string): void => {
    const own = findElement(elements, CHARSET);
    const charset = own ? decodeText(own) : inherited;
    for (const el of elements) {
      const items = itemsOf(el);
      if (items) {
        for (const item of items) walk(item.elements, charset);
        continue;
      }
      if (!el.value || el.value.length === 0 || isPrivateCreator(el.tag)) continue; // a creator names a vendor, not a person
      const rule = rules.rule(el.tag);
      const vr = vrOf(el);
      if (rule.kind === 'keep' && !isPrivateTag(el.tag)) continue;
      if (rule.kind === 'cleanDescriptor' && whiteList.allows(el.tag, decodeText({ ...el, vr }, charset))) continue;
      if (vr === 'UI') {
        if (!options.retainUids) tokens.addUid(decodeText(el), el.tag);
      } else if (TOKEN_VRS.has(vr) || (datesArePhi && DATE_VRS.has(vr))) {
        const strong = vr === 'PN' || DATE_VRS.has(vr) || isIdentifierKeyword(lookupTag(el.tag)?.keyword ?? '');
        tokens.addText(decodeText({ ...el, vr }, charset), el.tag, vr, strong);
      } else if (isPrivateTag(el.tag) && (vr === 'UN' || vr === 'OB') && el.value.length <= OPAQUE_SCAN_LIMIT) {
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

/** Searches every value of the output for the tokens; returns the first hit. */
export function findPhi(output: readonly Element[], tokens: PhiTokens): VerifyHit | undefined {
  const hit = (source: number): VerifyHit => ({ keyword: keywordOf(source) });
  const walk = (elements: readonly Element[], inherited: string): VerifyHit | undefined => {
    const own = findElement(elements, CHARSET);
    const charset = own ? decodeText(own) : inherited;
    for (const el of elements) {
      const items = itemsOf(el);
      if (items) {
        for (const item of items) {
          const found = walk(item.elements, charset);
          if (found) return found;
        }
        continue;
      }
      if (!el.value || el.value.length === 0 || el.tag === PIXEL_DATA) continue;
      const vr = vrOf(el);
      let text: string;
      if (vr === 'UI') {
        for (const uid of decodeTextValues(el)) {
          const source = tokens.uids.get(uid);
          if (source !== undefined) return hit(source);
        }
        continue;
      } else if (TOKEN_VRS.has(vr) || DATE_VRS.has(vr) || vr === 'CS' || vr === 'AS') {
        text = decodeText({ ...el, vr }, charset);
      } else if ((vr === 'UN' || vr === 'OB') && el.value.length <= OPAQUE_SCAN_LIMIT) {
        text = el.value.toString('latin1');
      } else {
        continue;
      }
      const source = tokens.findIn(normalizeForMatch(text), vr === 'CS' || vr === 'AS' || CODED.has(el.tag));
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
