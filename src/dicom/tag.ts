/** Tags are uint32 numbers: (group << 16 | element) >>> 0. */
export function makeTag(group: number, element: number): number {
  return ((group << 16) | element) >>> 0;
}

export function tagGroup(tag: number): number {
  return tag >>> 16;
}

export function tagElement(tag: number): number {
  return tag & 0xffff;
}

export function formatTag(tag: number): string {
  const hex = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/** Accepts "(0008,0050)", "0008,0050", "00080050". */
export function parseTag(text: string): number | undefined {
  const m = /^\(?([0-9a-fA-F]{4}),?([0-9a-fA-F]{4})\)?$/.exec(text.trim());
  if (!m) return undefined;
  return makeTag(parseInt(m[1], 16), parseInt(m[2], 16));
}

export function isPrivateTag(tag: number): boolean {
  return (tagGroup(tag) & 1) === 1;
}

/** (gggg,0010-00FF) with odd gggg. */
export function isPrivateCreator(tag: number): boolean {
  const el = tagElement(tag);
  return isPrivateTag(tag) && el >= 0x10 && el <= 0xff;
}

export function isGroupLength(tag: number): boolean {
  return tagElement(tag) === 0;
}

export const ITEM = 0xfffee000;
export const ITEM_DELIMITATION = 0xfffee00d;
export const SEQUENCE_DELIMITATION = 0xfffee0dd;
export const PIXEL_DATA = 0x7fe00010;
export const UNDEFINED_LENGTH = 0xffffffff;
