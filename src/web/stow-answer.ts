/**
 * Reads a STOW-RS answer (application/dicom+json, PS3.18 10.5.3): Referenced SOP Sequence
 * (0008,1199) lists what the archive stored (with a Warning Reason (0008,1196) if it changed
 * something), Failed SOP Sequence (0008,1198) what it refused, each with its Failure Reason
 * (0008,1197), a DIMSE status code.
 */
import { classifyStatus, describeStatus } from '../dicom/dimse-status';

export interface StowAnswer {
  /** SOP Instance UID → Warning Reason (0 when none). */
  readonly stored: ReadonlyMap<string, number>;
  /** SOP Instance UID → Failure Reason (0 when the archive gave none). */
  readonly failed: ReadonlyMap<string, number>;
}

const REFERENCED_SOP_SEQUENCE = '00081199';
const FAILED_SOP_SEQUENCE = '00081198';
const REFERENCED_SOP_INSTANCE_UID = '00081155';
const WARNING_REASON = '00081196';
const FAILURE_REASON = '00081197';

type JsonAttribute = { vr?: string; Value?: unknown[] };
type JsonDataset = Record<string, JsonAttribute | undefined>;

function firstValue(ds: JsonDataset, tag: string): unknown {
  return ds[tag]?.Value?.[0] ?? ds[tag.toLowerCase()]?.Value?.[0];
}

function items(ds: JsonDataset, tag: string): JsonDataset[] {
  const values = ds[tag]?.Value ?? ds[tag.toLowerCase()]?.Value ?? [];
  return values.filter((v): v is JsonDataset => !!v && typeof v === 'object' && !Array.isArray(v));
}

/** A US value as sent: a number, or a numeric string (some archives quote it). */
function code(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : 0;
}

/** undefined when the body is not a DICOM JSON dataset (an HTML error page, XML, nothing). */
export function parseStowAnswer(body: Buffer): StowAnswer | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  // Some archives wrap the one dataset in an array, as QIDO-RS answers are.
  const ds = (Array.isArray(json) && json.length === 1 ? json[0] : json) as JsonDataset;
  if (!ds || typeof ds !== 'object' || Array.isArray(ds)) return undefined;
  if (!(REFERENCED_SOP_SEQUENCE in ds) && !(FAILED_SOP_SEQUENCE in ds)) return undefined;
  const stored = new Map<string, number>();
  const failed = new Map<string, number>();
  for (const item of items(ds, REFERENCED_SOP_SEQUENCE)) {
    const uid = firstValue(item, REFERENCED_SOP_INSTANCE_UID);
    if (typeof uid === 'string' && uid) stored.set(uid.trim(), code(firstValue(item, WARNING_REASON)));
  }
  for (const item of items(ds, FAILED_SOP_SEQUENCE)) {
    const uid = firstValue(item, REFERENCED_SOP_INSTANCE_UID);
    if (typeof uid === 'string' && uid) failed.set(uid.trim(), code(firstValue(item, FAILURE_REASON)));
  }
  return { stored, failed };
}

/** "Failure Reason 0xC000 cannot understand", or a plain line when the archive gave no reason. */
export function describeFailureReason(reason: number): string {
  return reason ? `Failure Reason ${describeStatus(classifyStatus(reason))}` : 'listed as failed, without a Failure Reason';
}
