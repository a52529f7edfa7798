/** Upper case, and every run of characters other than letters and digits becomes one space. */
export function normalizeForMatch(value: string): string {
  return value.toUpperCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** Keywords of attributes that identify someone or something: Patient ID, Accession Number, Other Patient IDs... */
const IDENTIFIER = /(ID|IDs|Number|Numbers|Name|Names|Address|Telephone\w*|Locator)$/;

const IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** Values of an original that must not appear in its output. */
export class PhiTokens {
  /**
   * Normalized text tokens, each with the keyword of the attribute that held it. Strong tokens (person
   * names, identifiers, dates) are searched in every output value; the others (descriptions, comments)
   * not in coded values, where a word like HEAD is vocabulary, not PHI.
   */
  readonly text = new Map<string, { readonly keyword: string; readonly strong: boolean }>();
  /** Original UIDs that were remapped or removed. */
  readonly uids = new Map<string, string>();

  constructor(private readonly ignore: ReadonlySet<string>) {}

  /** Person names count by component (family, given...) of 3+ letters (1+ ideographs); other values whole, 4+. */
  addText(value: string, keyword: string, vr: string, strong = vr === 'PN' || vr === 'DA' || vr === 'DT' || IDENTIFIER.test(keyword)): void {
    const parts = vr === 'PN' ? value.split(/[\^=\\]/) : vr === 'LT' || vr === 'ST' || vr === 'UT' ? [value] : value.split('\\');
    for (const part of parts) {
      const token = normalizeForMatch(part);
      // One ideograph or syllable block is a whole name part in Chinese, Japanese or Korean.
      const min = vr !== 'PN' ? 4 : IDEOGRAPHIC.test(token) ? 1 : 3;
      if (token.length >= min && !this.ignore.has(token) && /[\p{L}1-9]/u.test(token)) this.text.set(token, { keyword, strong });
    }
  }

  addUid(value: string, keyword: string): void {
    for (const v of value.split('\\')) if (v) this.uids.set(v, keyword);
  }

  /** The keyword of the first token found in a normalized value, as a whole word or words. */
  findIn(normalized: string, strongOnly: boolean): string | undefined {
    if (!normalized) return undefined;
    const padded = ` ${normalized} `;
    for (const [token, { keyword, strong }] of this.text) {
      if ((strong || !strongOnly) && padded.includes(` ${token} `)) return keyword;
    }
    return undefined;
  }
}
