import { readFileSync } from 'node:fs';
import { PipelineError } from '../errors';
import { parseTag } from '../dicom/tag';

/** Case, the characters -_,. and repeated spaces do not count when matching a white-listed value. */
export function normalizeDescriptor(value: string): string {
  return value.toUpperCase().replace(/[-_,.]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Descriptor values a site has reviewed as free of PHI (dicom_limited_vocabulary.json). */
export class WhiteList {
  constructor(private readonly byTag: ReadonlyMap<number, ReadonlySet<string>> = new Map()) {}

  static fromJson(json: unknown, source: string): WhiteList {
    const problems: string[] = [];
    const byTag = new Map<number, Set<string>>();
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new PipelineError('E_CONFIG', `${source}: expected an object like {"0008,1030": ["CT CHEST"]}`);
    }
    for (const [key, values] of Object.entries(json)) {
      const tag = parseTag(key);
      if (tag === undefined) problems.push(`key "${key}" is not a tag like "0008,1030"`);
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
        problems.push(`"${key}" must map to a list of strings`);
        continue;
      }
      if (tag !== undefined) byTag.set(tag, new Set(values.map(normalizeDescriptor).filter((v) => v.length > 0)));
    }
    if (problems.length) throw new PipelineError('E_CONFIG', `${source}: ${problems.join('; ')}`);
    return new WhiteList(byTag);
  }

  static load(path: string): WhiteList {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new PipelineError('E_CONFIG', `white list ${path}: ${(err as Error).message}`, { cause: err });
    }
    return WhiteList.fromJson(json, `white list ${path}`);
  }

  allows(tag: number, value: string): boolean {
    const values = this.byTag.get(tag);
    return values !== undefined && values.has(normalizeDescriptor(value));
  }

  /** Every listed value, normalized: the verifier never treats these as PHI. */
  allValues(): Set<string> {
    const all = new Set<string>();
    for (const values of this.byTag.values()) for (const v of values) all.add(v);
    return all;
  }
}
