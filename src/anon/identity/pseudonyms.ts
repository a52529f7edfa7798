import { createHmac, randomInt } from 'node:crypto';

/**
 * How pseudonyms are made, shared by both identity-store backends so that a SQLite store and a
 * PostgreSQL store under the same key derive the same UIDs. UIDs derive from an HMAC of the original
 * under the site's key; patient, accession and study-ID pseudonyms are stored random values.
 */
export type ValueKind = 'accession_no' | 'study_id';
export type UidRole = 'studyuid' | 'seriesuid' | 'sopinstanceuid';

export interface PatientPseudonym {
  readonly id: string;
  readonly name: string;
  readonly dateOffsetDays: number;
  /** Keyed hash of the family name first seen with this Patient ID, if any. */
  readonly nameCheck?: string;
}

export type PatientAnswer = PatientPseudonym & { readonly sameName: boolean };

/**
 * What de-identification asks of the identity store, synchronously, inside one batch: every answer
 * is stored (write-once) before any output that uses it is written.
 */
export interface Identity {
  uid(original: string): string;
  /** Records what a UID was seen as, for the studyuid/seriesuid/sopinstanceuid views. */
  recordRole(original: string, role: UidRole): void;
  /**
   * The patient's pseudonym. familyName, when given, is remembered as a keyed hash the first time;
   * `sameName` then says whether this file's family name is the one first seen with the ID.
   */
  patient(patientId: string, issuer: string, familyName?: string): PatientAnswer;
  value(kind: ValueKind, original: string): string;
  linkStudy(studyCleaned: string, patientCleaned: string): void;
}

const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford: no I, L, O, U
export const VALUE_PREFIX: Record<ValueKind, [string, number]> = { accession_no: ['A', 11], study_id: ['S', 9] };
/** Lookups cached per process; cleared when full so memory stays bounded on any run. */
export const CACHE_LIMIT = 50_000;
/** Tries before a collision of derived or random pseudonyms is called an inconsistent store. */
export const MAX_ATTEMPTS = 6;

export function validateDicomRoot(root: string): string | undefined {
  if (!/^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/.test(root)) return 'must be dot-separated numbers without leading zeros';
  if (63 - root.length < 20) return 'is too long: it must leave at least 20 digits of a 64-character UID';
  return undefined;
}

export function randomCode(prefix: string, length: number): string {
  let out = prefix;
  for (let i = 0; i < length; i++) out += BASE32[randomInt(32)];
  return out;
}

export interface PseudonymOptions {
  /** Root for new UIDs; '2.25' (UUID-derived) when absent. */
  readonly dicomRoot?: string;
  readonly keyFile?: string;
  /** Per-patient date offsets are drawn from -maxDays..-minDays (never zero). */
  readonly dateShiftDays?: { readonly min: number; readonly max: number };
}

/** The keyed and random parts of pseudonym making, for one key and one configuration. */
export class Pseudonyms {
  private readonly root: string;
  private readonly digits: number;
  private readonly shift: { min: number; max: number };

  constructor(private readonly key: Buffer, options: PseudonymOptions) {
    this.root = options.dicomRoot ?? '2.25';
    // 38 digits keep a 2.25 UID below 2^128, as a UUID-derived UID must be.
    this.digits = Math.min(38, 63 - this.root.length);
    this.shift = { min: options.dateShiftDays?.min ?? 1, max: options.dateShiftDays?.max ?? 3650 };
  }

  uid(original: string, attempt: number): string {
    const mac = createHmac('sha256', this.key).update(`uid\0${original}\0${attempt}`).digest('hex');
    const span = 9n * 10n ** BigInt(this.digits - 1);
    const value = 10n ** BigInt(this.digits - 1) + (BigInt('0x' + mac) % span);
    return `${this.root}.${value}`;
  }

  nameCheck(familyName: string): string | undefined {
    const letters = familyName.toUpperCase().replace(/[^\p{L}\p{N}]+/gu, '');
    return letters ? createHmac('sha256', this.key).update(`name\0${letters}`).digest('hex').slice(0, 32) : undefined;
  }

  newPatient(): { id: string; offset: number } {
    return { id: randomCode('P', 11), offset: -randomInt(this.shift.min, this.shift.max + 1) };
  }

  newValue(kind: ValueKind): string {
    const [prefix, length] = VALUE_PREFIX[kind];
    return randomCode(prefix, length);
  }
}

export function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
}
