/** Upper case, and every run of characters other than letters and digits becomes one space. */
export function normalizeForMatch(value: string): string {
  return value.toUpperCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}

/** Keywords of attributes that identify someone or something: Patient ID, Accession Number, Other Patient IDs... */
const IDENTIFIER = /(ID|IDs|Number|Numbers|Name|Names|Address|Telephone\w*|Locator)$/;
const IDEOGRAPHIC = /[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}]/u;

interface Token {
  readonly text: string;
  /** Where the value came from, reported on a hit (resolved to a keyword only then). */
  readonly source: number;
  /** Strong tokens (names, identifiers, dates) are searched in every output value; others not in coded values. */
  readonly strong: boolean;
}

/** Values reviewed as no PHI, normalized, with their padded forms for phrase checks: built once per thread. */
export class PhiIgnore {
  readonly phrases: readonly string[];
  constructor(readonly values: ReadonlySet<string>) {
    this.phrases = [...values].map((v) => ` ${v} `);
  }
}

/** Values of an original that must not appear in its output. */
export class PhiTokens {
  /** Tokens by their first word: a value is searched word by word, not token by token. */
  private readonly byFirstWord = new Map<string, Token[]>();
  /** Original UIDs that were remapped or removed, with their source tag. */
  readonly uids = new Map<string, number>();

  /**
   * ignore: values that are no PHI (white list, dummies), plus this file's own `notPhi` values. A
   * weak token that is a phrase of a reviewed value is no PHI either: a removed "CT CHEST" must not
   * flag a white-listed "CT CHEST W/CONTRAST".
   */
  private readonly notPhiPhrases: readonly string[];

  constructor(private readonly ignore: PhiIgnore, private readonly notPhi: ReadonlySet<string> = new Set()) {
    this.notPhiPhrases = [...notPhi].map((v) => ` ${v} `);
  }

  /** Every text token (for reports and tests). */
  texts(): string[] {
    return [...this.byFirstWord.values()].flatMap((list) => list.map((t) => t.text));
  }

  sourceOf(token: string): number | undefined {
    return (this.byFirstWord.get(token.split(' ')[0]) ?? []).find((t) => t.text === token)?.source;
  }

  /** Person names count by component (family, given...) of 3+ letters (1+ ideographs); other values whole, 4+. */
  addText(value: string, source: number, vr: string, strong = vr === 'PN' || vr === 'DA' || vr === 'DT'): void {
    const parts = vr === 'PN' ? value.split(/[\^=\\]/) : vr === 'LT' || vr === 'ST' || vr === 'UT' ? [value] : value.split('\\');
    for (const part of parts) {
      const text = normalizeForMatch(part);
      // One ideograph or syllable block is a whole name part in Chinese, Japanese or Korean.
      const min = vr !== 'PN' ? 4 : IDEOGRAPHIC.test(text) ? 1 : 3;
      if (text.length < min || this.ignore.values.has(text) || this.notPhi.has(text) || !/[\p{L}1-9]/u.test(text)) continue;
      const isPhraseOf = (phrase: string): boolean => phrase.includes(` ${text} `);
      if (!strong && (this.ignore.phrases.some(isPhraseOf) || this.notPhiPhrases.some(isPhraseOf))) continue;
      const first = text.split(' ')[0];
      const list = this.byFirstWord.get(first) ?? [];
      if (!list.some((t) => t.text === text)) list.push({ text, source, strong });
      this.byFirstWord.set(first, list);
    }
  }

  /** A date also counts as 1970 04 01, 04 01 1970 and 01 04 1970: dates copied into text rarely keep DICOM's form. */
  addDate(value: string, source: number): void {
    for (const v of value.split('\\')) {
      const m = /^(\d{4})(\d{2})(\d{2})/.exec(v.trim());
      if (!m) continue;
      const [, y, mo, d] = m;
      for (const form of [`${y}${mo}${d}`, `${y} ${mo} ${d}`, `${mo} ${d} ${y}`, `${d} ${mo} ${y}`]) this.addText(form, source, 'DA', true);
    }
  }

  addUid(value: string, source: number): void {
    for (const v of value.split('\\')) if (v) this.uids.set(v, source);
  }

  /** The source of the first token found in a normalized value, as a whole word or words. */
  findIn(normalized: string, strongOnly: boolean): number | undefined {
    if (!normalized) return undefined;
    const padded = ` ${normalized} `;
    for (const word of normalized.split(' ')) {
      const candidates = this.byFirstWord.get(word);
      if (!candidates) continue;
      for (const t of candidates) if ((t.strong || !strongOnly) && padded.includes(` ${t.text} `)) return t.source;
    }
    return undefined;
  }
}

export function isIdentifierKeyword(keyword: string): boolean {
  return IDENTIFIER.test(keyword);
}
