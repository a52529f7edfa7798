/**
 * Reading V8 .cpuprofile files (from `node --cpu-prof`) without DevTools: where did the time go?
 * Pure functions over the parsed JSON, so a benchmark can print a breakdown after a profiled run.
 */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber?: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, one per sample. */
  readonly timeDeltas: readonly number[];
}

/** A named slice of the work: a sample belongs to the innermost frame on its stack that some category matches. */
export interface Category {
  readonly name: string;
  readonly match: (frame: CallFrame) => boolean;
}

export interface Slice {
  readonly name: string;
  readonly micros: number;
  readonly share: number;
}

function index(profile: CpuProfile): { byId: Map<number, ProfileNode>; parent: Map<number, number> } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  return { byId, parent };
}

function sampled(profile: CpuProfile): number {
  return profile.timeDeltas.reduce((s, d) => s + Math.max(0, d), 0);
}

/**
 * Splits sampled time by category (innermost match wins); samples no category claims go to
 * `otherName`. V8's pseudo-frames '(garbage collector)', '(program)' and '(idle)' have no stack:
 * give them categories of their own if they matter.
 */
export function attribute(profile: CpuProfile, categories: readonly Category[], otherName = 'other'): Slice[] {
  const { byId, parent } = index(profile);
  const memo = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const path: number[] = [];
    let result = otherName;
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const hit = memo.get(cur);
      if (hit !== undefined) {
        result = hit;
        break;
      }
      path.push(cur);
      const node = byId.get(cur);
      const cat = node && categories.find((c) => c.match(node.callFrame));
      if (cat) {
        result = cat.name;
        break;
      }
    }
    // Every node on the walked path has the same innermost category (none matched below the hit).
    for (const p of path) memo.set(p, result);
    return result;
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const name = categoryOf(id);
    totals.set(name, (totals.get(name) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  });
  const all = sampled(profile) || 1;
  return [...totals].map(([name, micros]) => ({ name, micros, share: micros / all })).sort((a, b) => b.micros - a.micros);
}

/** Functions by self time (time at the top of the stack), summed over every node of the same function. */
export function topSelf(profile: CpuProfile, limit = 15): Slice[] {
  const { byId } = index(profile);
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const key = frameLabel(node.callFrame);
    totals.set(key, (totals.get(key) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  });
  const all = sampled(profile) || 1;
  return [...totals].map(([name, micros]) => ({ name, micros, share: micros / all })).sort((a, b) => b.micros - a.micros).slice(0, limit);
}

/** `name (file.js:line)`, with the path shortened to what follows the last `dist/` or `node_modules/`. */
export function frameLabel(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const url = frame.url.replace(/^file:\/\//, '');
  const cut = Math.max(url.lastIndexOf('dist/'), url.lastIndexOf('node_modules/'));
  const short = cut >= 0 ? url.slice(url.indexOf('/', cut) + 1) : url.split('/').pop() ?? url;
  return `${name} (${short}:${frame.lineNumber + 1})`;
}

/** Category matcher for a function name, optionally only in files whose URL contains urlPart. */
export function fn(name: string | RegExp, urlPart?: string): (frame: CallFrame) => boolean {
  return (frame) => (typeof name === 'string' ? frame.functionName === name : name.test(frame.functionName)) && (urlPart === undefined || frame.url.includes(urlPart));
}

/** The functions with the most self time, as rows for formatTable: name, seconds, share %. */
export function topSelfRows(profile: CpuProfile, limit: number): Array<[string, number, number]> {
  return topSelf(profile, limit).map((s) => [s.name, s.micros / 1e6, s.share * 100]);
}

export const TOP_SELF_COLUMNS = [{ header: 'function' }, { header: 'seconds', decimals: 2 }, { header: 'share %', decimals: 1 }];
