import type { Identity, PatientAnswer, PatientPseudonym, UidRole, ValueKind } from './pseudonyms';

/** What a store already knows in this process (bounded caches). */
export class KnownMappings {
  readonly uids = new Map<string, string>();
  readonly patients = new Map<string, PatientPseudonym>();
  readonly values = new Map<string, string>();
  readonly roles = new Map<string, true>();
  readonly links = new Map<string, string>();
}

export interface PatientRequest {
  readonly original: string;
  readonly issuer: string;
  readonly check?: string;
}

const PLACEHOLDER_PATIENT: PatientPseudonym = { id: 'P00000000000', name: 'P00000000000', dateOffsetDays: -1 };

/**
 * A synchronous Identity over what is known. A question it cannot answer is recorded as a miss and
 * answered with a placeholder: the caller fetches the misses from the store and runs the batch again.
 * Roles and study links are recorded as writes; only the run without misses is kept.
 */
export class BatchView implements Identity {
  readonly uidMisses = new Set<string>();
  readonly patientMisses = new Map<string, PatientRequest>();
  readonly valueMisses = new Map<string, { kind: ValueKind; original: string }>();
  readonly roleWrites = new Map<string, { original: string; role: UidRole }>();
  readonly linkWrites = new Map<string, string>();

  constructor(private readonly known: KnownMappings, private readonly nameCheck: (familyName: string) => string | undefined) {}

  get complete(): boolean {
    return this.uidMisses.size === 0 && this.patientMisses.size === 0 && this.valueMisses.size === 0;
  }

  uid(original: string): string {
    const cleaned = this.known.uids.get(original);
    if (cleaned) return cleaned;
    this.uidMisses.add(original);
    return '2.25.1';
  }

  recordRole(original: string, role: UidRole): void {
    const key = `${role}\0${original}`;
    if (!this.known.roles.has(key)) this.roleWrites.set(key, { original, role });
  }

  patient(patientId: string, issuer: string, familyName = ''): PatientAnswer {
    const key = `${issuer}\0${patientId}`;
    const check = familyName ? this.nameCheck(familyName) : undefined;
    const known = this.known.patients.get(key);
    if (!known || (check && !known.nameCheck)) {
      this.patientMisses.set(key, { original: patientId, issuer, check: check ?? this.patientMisses.get(key)?.check });
      return { ...PLACEHOLDER_PATIENT, sameName: true };
    }
    return { ...known, sameName: !check || !known.nameCheck || known.nameCheck === check };
  }

  value(kind: ValueKind, original: string): string {
    const key = `${kind}\0${original}`;
    const cleaned = this.known.values.get(key);
    if (cleaned) return cleaned;
    this.valueMisses.set(key, { kind, original });
    return 'X';
  }

  linkStudy(studyCleaned: string, patientCleaned: string): void {
    if (this.known.links.get(studyCleaned) !== patientCleaned) this.linkWrites.set(studyCleaned, patientCleaned);
  }
}

