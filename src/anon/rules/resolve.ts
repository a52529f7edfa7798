import { lookupTag, tagForKeyword } from '../../dicom/dictionary';
import { isPrivateTag, tagGroup } from '../../dicom/tag';
import type { ProfileOptions } from '../options';
import {
  PROFILE_MASKED_ROWS, PROFILE_ROWS, type BasicAction, type OptionKey, type ProfileRow,
} from './profile-table';
import { PrivateRules, siteRuleAllowed, type SitePrivateRule } from './private-rules';
import { NON_TEXT_VRS, SAFE_KEYWORDS, TECHNICAL_GROUPS, TECHNICAL_TEXT_KEYWORDS } from './safe-attributes';

/**
 * What to do with one attribute, before looking at its value:
 * - keep: unchanged (sequences are still recursed);
 * - remove (X), empty (Z), dummy (D), uid (U): the PS3.15 actions;
 * - conditional: X/Z, X/D, X/Z/D, Z/D: settled per element from its value (see actions.ts);
 * - refs (X/Z/U*): the sequence is kept, its items recursed, their UIDs remapped;
 * - shiftDates: Retain Longitudinal Modified Dates (C);
 * - cleanDescriptor: Clean Descriptors (C): kept if the white list has the value, else `fallback`;
 * - recurse: structured content (C): the sequence is kept and cleaned item by item.
 */
export type Rule =
  | { readonly kind: 'keep' | 'remove' | 'empty' | 'dummy' | 'uid' | 'refs' | 'shiftDates' | 'recurse'; readonly source: RuleSource }
  | { readonly kind: 'conditional'; readonly action: 'X/Z' | 'X/D' | 'X/Z/D' | 'Z/D'; readonly source: RuleSource }
  | { readonly kind: 'cleanDescriptor'; readonly fallback: Rule; readonly source: RuleSource };

export type RuleSource = 'table' | 'safe-list' | 'technical' | 'private' | 'default-deny' | 'group-length';

const OPTION_FLAGS: ReadonlyArray<[OptionKey, (o: ProfileOptions) => boolean]> = [
  ['rtnLongModifDatesOpt', (o) => o.retainLongitudinal === 'modified'],
  ['rtnLongFullDatesOpt', (o) => o.retainLongitudinal === 'full'],
  ['cleanDescOpt', (o) => o.cleanDescriptors],
  ['cleanStructContOpt', (o) => o.cleanStructuredContent],
  ['cleanGraphOpt', (o) => o.cleanGraphics],
  ['rtnPatCharsOpt', (o) => o.retainPatientCharacteristics],
  ['rtnDevIdOpt', (o) => o.retainDeviceIdentity],
  ['rtnUIDsOpt', (o) => o.retainUids],
  ['rtnInstIdOpt', (o) => o.retainInstitutionIdentity],
];

function basicRule(action: BasicAction): Rule {
  switch (action) {
    case 'D': return { kind: 'dummy', source: 'table' };
    case 'Z': return { kind: 'empty', source: 'table' };
    case 'X': return { kind: 'remove', source: 'table' };
    case 'U': return { kind: 'uid', source: 'table' };
    case 'X/Z/U*': return { kind: 'refs', source: 'table' };
    default: return { kind: 'conditional', action, source: 'table' };
  }
}

/** Resolves a table row under the selected options: any C wins over K (the safer reading), K over the basic action. */
function tableRule(row: ProfileRow, options: ProfileOptions): Rule {
  let keep = false;
  let clean: OptionKey | undefined;
  for (const [key, enabled] of OPTION_FLAGS) {
    const v = row.options[key];
    if (!v || !enabled(options)) continue;
    if (v === 'C' && !clean) clean = key;
    if (v === 'K') keep = true;
  }
  const basic = basicRule(row.basic);
  if (clean === 'rtnLongModifDatesOpt') return { kind: 'shiftDates', source: 'table' };
  if (clean === 'cleanDescOpt') return { kind: 'cleanDescriptor', fallback: keep ? { kind: 'keep', source: 'table' } : basic, source: 'table' };
  if (clean === 'cleanStructContOpt') return { kind: 'recurse', source: 'table' };
  // Clean Graphics: we cannot tell text burned into an overlay bitmap from a drawing, so graphics stay removed.
  if (clean === 'cleanGraphOpt') return basic;
  if (keep) return { kind: 'keep', source: 'table' };
  return basic;
}

function tagsOf(keywords: readonly string[]): ReadonlySet<number> {
  const tags = new Set<number>();
  for (const keyword of keywords) {
    const tag = tagForKeyword(keyword);
    if (tag === undefined) throw new Error(`safe list names an unknown keyword: ${keyword}`);
    tags.add(tag);
  }
  return tags;
}

let safeTags: ReadonlySet<number> | undefined;
let technicalTextTags: ReadonlySet<number> | undefined;

export function safeListTags(): ReadonlySet<number> {
  return (safeTags ??= tagsOf(SAFE_KEYWORDS));
}

/** Safe-list text attributes whose values must look like technical strings to be kept. */
export function isTechnicalTextTag(tag: number): boolean {
  return (technicalTextTags ??= tagsOf(TECHNICAL_TEXT_KEYWORDS)).has(tag);
}

/** The rule for a tag outside the table: safe list, technical group, or default-deny. */
function untabledRule(tag: number): Rule {
  if ((tag & 0xffff) === 0) return { kind: 'remove', source: 'group-length' };
  if (safeListTags().has(tag)) return { kind: 'keep', source: 'safe-list' };
  const entry = lookupTag(tag);
  if (entry && TECHNICAL_GROUPS.has(tagGroup(tag)) && entry.vrs.length > 0 && entry.vrs.every((vr) => NON_TEXT_VRS.has(vr))) {
    return { kind: 'keep', source: 'technical' };
  }
  // An instance UID the table does not name still points at identified data: remap it rather than leak or break it.
  if (entry?.vr === 'UI') return { kind: 'uid', source: 'default-deny' };
  return { kind: 'remove', source: 'default-deny' };
}

/** Precomputes and caches the rule of every tag for one set of options. */
export class RuleBook {
  private readonly cache = new Map<number, Rule>();
  private static readonly PRIVATE: Rule = { kind: 'remove', source: 'private' };
  /** Retain Safe Private: the table and the site's rules; undefined when the option is off (every private attribute goes). */
  readonly privateRules: PrivateRules | undefined;

  constructor(readonly options: ProfileOptions, sitePrivateRules: readonly SitePrivateRule[] = []) {
    this.privateRules = options.retainSafePrivate ? new PrivateRules(sitePrivateRules.filter((r) => siteRuleAllowed(r, options))) : undefined;
    for (const row of PROFILE_ROWS.values()) this.cache.set(row.tag, tableRule(row, options));
  }

  /** The rule by tag alone; a private attribute is kept only through privateRules, which need its creator. */
  rule(tag: number): Rule {
    if (isPrivateTag(tag)) return RuleBook.PRIVATE;
    let rule = this.cache.get(tag);
    if (!rule) {
      const masked = PROFILE_MASKED_ROWS.find((r) => (tag & r.mask) === r.value);
      rule = masked ? tableRule(masked, this.options) : untabledRule(tag);
      this.cache.set(tag, rule);
    }
    return rule;
  }
}
