import type { FileRange } from './file-range';

/**
 * Our in-memory form of a dataset: a tree of raw elements. Values stay as the file's own bytes
 * (subarrays, never copies or re-encodings), so what we do not change is written back unchanged.
 */
export interface Element {
  readonly tag: number;
  vr: string;
  /** Raw value bytes in the file's byte order; absent for sequences and encapsulated data. */
  value?: Buffer;
  /** Items of a sequence (SQ, or UN/implicit elements of undefined length). */
  items?: Item[];
  /** Encapsulated pixel data: the raw item stream after the header, sequence delimiter included. */
  fragments?: Buffer;
  undefinedLength?: boolean;
  /**
   * Bulk data left in the source file (large files): the raw value, or for encapsulated data the
   * fragment stream as in `fragments`. Copied to the output without being read into memory.
   */
  external?: FileRange;
  /** UN of undefined length: its items are encoded Implicit VR Little Endian (PS3.5 6.2.2). */
  implicitItems?: boolean;
}

export interface Item {
  elements: Element[];
  undefinedLength: boolean;
}

/** Elements are kept sorted by tag, so lookups can bisect. */
export function findElement(elements: readonly Element[], tag: number): Element | undefined {
  let lo = 0;
  let hi = elements.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const t = elements[mid].tag;
    if (t === tag) return elements[mid];
    if (t < tag) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Inserts or replaces, keeping tag order. */
export function putElement(elements: Element[], element: Element): void {
  let lo = 0;
  let hi = elements.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (elements[mid].tag < element.tag) lo = mid + 1;
    else hi = mid;
  }
  if (lo < elements.length && elements[lo].tag === element.tag) elements[lo] = element;
  else elements.splice(lo, 0, element);
}

export function removeElement(elements: Element[], tag: number): boolean {
  const idx = elements.findIndex((e) => e.tag === tag);
  if (idx < 0) return false;
  elements.splice(idx, 1);
  return true;
}
