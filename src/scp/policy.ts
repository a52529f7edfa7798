/**
 * Association policy of the Storage SCP (pure): who may associate, and which presentation contexts
 * are accepted with which single transfer syntax.
 */
import type { AssociationDecision, AssociationRequestInfo } from '../dicom/dimse-scp';
import { STORAGE_COMMITMENT_SOP_CLASS } from '../dicom/storage-commitment';
import { transferSyntax } from '../dicom/transfer-syntax';

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

export interface AssociationPolicy {
  readonly aeTitle: string;
  /** When non-empty, only these calling AE titles may associate (identified data comes only from staging). */
  readonly allowedCallingAets: readonly string[];
  /** When non-empty, only these peer IP addresses may connect. */
  readonly allowedAddresses: readonly string[];
  readonly maxAssociations: number;
  /** Storage contexts accepted (default true); false while we only wait for commitment reports. */
  readonly acceptStorage?: boolean;
  /** Storage Commitment Push Model accepted, for the reports an archive sends us (default false). */
  readonly acceptCommitment?: boolean;
}

/** Standard storage SOP classes outside the 1.2.840.10008.5.1.4.1.1 arc (PS3.4 Annex B table B.5-1). */
const OTHER_STANDARD_STORAGE = /^1\.2\.840\.10008\.5\.1\.4\.(34\.(5|5\.1|7|10)|38\.1|39\.1|43\.1|44\.1|45\.1)$/;

/**
 * Every storage SOP class, not a fixed list: the standard storage arc, the few standard storage
 * classes elsewhere, and private SOP classes (vendors' private storage, e.g. Siemens CSA non-image).
 * Query/retrieve, worklist, print, commitment and other standard services are not storage.
 */
export function isStorageSopClass(uid: string): boolean {
  if (uid.startsWith('1.2.840.10008.5.1.4.1.1.')) return true;
  if (OTHER_STANDARD_STORAGE.test(uid)) return true;
  return !uid.startsWith('1.2.840.10008.') && /^[0-9.]+$/.test(uid);
}

/** We store what we get, so every transfer syntax we can route (read UIDs from) is acceptable. */
function firstSupported(proposed: readonly string[]): string | undefined {
  return proposed.find((uid) => transferSyntax(uid) !== undefined);
}

function serves(policy: AssociationPolicy, abstractSyntax: string): boolean {
  if (abstractSyntax === VERIFICATION_SOP_CLASS) return true;
  if (abstractSyntax === STORAGE_COMMITMENT_SOP_CLASS) return policy.acceptCommitment === true;
  return policy.acceptStorage !== false && isStorageSopClass(abstractSyntax);
}

export function decideAssociation(info: AssociationRequestInfo, policy: AssociationPolicy, activeAssociations: number): AssociationDecision {
  if (info.calledAet.trim() !== policy.aeTitle) return { accept: false, cause: 'called-ae' };
  if (policy.allowedCallingAets.length > 0 && !policy.allowedCallingAets.includes(info.callingAet.trim())) {
    return { accept: false, cause: 'calling-ae' };
  }
  if (policy.allowedAddresses.length > 0 && !policy.allowedAddresses.includes(info.remoteAddress)) {
    return { accept: false, cause: 'not-allowed' };
  }
  // activeAssociations counts the requesting one too.
  if (activeAssociations > policy.maxAssociations) return { accept: false, cause: 'limit' };
  const transferSyntaxes = new Map<number, string>();
  const unsupportedAbstract = new Set<number>();
  for (const context of info.contexts) {
    if (!serves(policy, context.abstractSyntax)) {
      unsupportedAbstract.add(context.id);
      continue;
    }
    // Preference: the order the peer proposed, among those we support.
    const ts = firstSupported(context.transferSyntaxes);
    if (ts) transferSyntaxes.set(context.id, ts);
  }
  return { accept: true, transferSyntaxes, unsupportedAbstract };
}
