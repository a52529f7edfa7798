import { createHmac } from 'node:crypto';
import { PipelineError } from '../../errors';

/** meta key under which a store records the fingerprint of the key its UIDs were derived with. */
export const FINGERPRINT_KEY = 'key_fingerprint';

/** An HMAC of a constant under the key: tells keys apart without revealing (or allowing to derive) the key. */
export function keyFingerprint(key: Buffer): string {
  return createHmac('sha256', key).update('dicom-pipeline identity key fingerprint v1').digest('hex');
}

/**
 * Two instances (or runs) with different keys would derive different UIDs for new originals of one
 * study: refuse rather than split a study. `stored` is what the store holds, after recording ours if
 * it held none.
 */
export function checkFingerprint(stored: string, key: Buffer, store: string, keyFile: string): void {
  const ours = keyFingerprint(key);
  if (stored === ours) return;
  throw new PipelineError('E_IDENTITY',
    `key file ${keyFile} is not the key identity store ${store} was made with (key fingerprint ${ours.slice(0, 12)}…, ` +
    `store expects ${stored.slice(0, 12)}…): use the same key file on every instance (keyFile or DICOM_PIPELINE_KEY_FILE)`);
}
