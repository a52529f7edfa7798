import assert from 'node:assert/strict';
import { findElement, type Element } from '../../src/dicom/dataset';
import { formatTag, isPrivateTag } from '../../src/dicom/tag';

/**
 * Retain Safe Private checks shared by the anonymize and pipeline tests: where private elements
 * are, and whether exactly the expected ones survived byte for byte.
 */

/** Every private element at every depth, as "path > (gggg,eeee)". */
export function privatePaths(ds: readonly Element[], prefix = ''): string[] {
  const out: string[] = [];
  for (const el of ds) {
    const here = `${prefix}${formatTag(el.tag)}`;
    if (isPrivateTag(el.tag)) out.push(here);
    el.items?.forEach((item, i) => out.push(...privatePaths(item.elements, `${here}[${i}] > `)));
  }
  return out.sort();
}

/** The element at a path privatePaths() names. */
export function elementAt(ds: readonly Element[], path: string): Element | undefined {
  const parts = path.split(' > ');
  let elements: readonly Element[] = ds;
  for (let i = 0; i < parts.length - 1; i++) {
    const m = /^\((\w{4}),(\w{4})\)\[(\d+)\]$/.exec(parts[i])!;
    elements = findElement(elements, parseInt(m[1] + m[2], 16))?.items?.[Number(m[3])]?.elements ?? [];
  }
  const m = /^\((\w{4}),(\w{4})\)$/.exec(parts[parts.length - 1])!;
  return findElement(elements, parseInt(m[1] + m[2], 16));
}

/** The expected private elements survive byte for byte (same VR too), and they are the only private ones left. */
export function assertPrivateKeptExactly(input: readonly Element[], output: readonly Element[], expected: readonly string[], what = ''): void {
  assert.deepEqual(privatePaths(output), [...expected].sort(), `${what}exactly the listed private attributes and their creators survive`);
  for (const path of expected) {
    const before = elementAt(input, path);
    const after = elementAt(output, path);
    assert.ok(before?.value && after?.value, `${what}${path} has a value before and after`);
    assert.ok(after!.value!.equals(before!.value!), `${what}${path} byte for byte`);
    assert.equal(after!.vr, before!.vr, `${what}${path} keeps its VR`);
  }
}

/** fixtures/private GE files: GEMS_ACQU_01 table speed, mid scan time, gantry period, pulse sequence; GEMS_SERS_01 images in series. */
export const GE_TOP = [
  '(0019,0010)', '(0019,1023)', '(0019,1024)', '(0019,1027)', '(0019,109E)',
  '(0025,0010)', '(0025,1007)',
];
/** GEMS_PARM_01 pitch, b-value and table entry at the top level, its block at (0043,0010) ... */
export const GE_PARM = ['(0043,0010)', '(0043,1027)', '(0043,1039)', '(0043,106F)'];
/** ... or relocated to (0043,0011) (GE_CT_dwi_like_relocated.dcm). */
export const GE_PARM_RELOCATED = ['(0043,0011)', '(0043,1127)', '(0043,1139)', '(0043,116F)'];
/** The same GEMS_PARM_01 rows in the Referenced Image Sequence items, at (0043,0010) and (0043,0011). */
export const GE_ITEMS = [
  '(0008,1140)[0] > (0043,0010)', '(0008,1140)[0] > (0043,1027)', '(0008,1140)[0] > (0043,1039)', '(0008,1140)[0] > (0043,106F)',
  '(0008,1140)[1] > (0043,0011)', '(0008,1140)[1] > (0043,1127)', '(0008,1140)[1] > (0043,1139)', '(0008,1140)[1] > (0043,116F)',
];
