import type { IdentityMapOptions } from './identity/identity-map';
import type { ProfileOptions } from './options';
import type { QuarantineRules } from './quarantine-rules';
import type { SitePrivateRule } from './rules/private-rules';

/** Everything an anonymization needs, as plain data (it crosses into worker threads). */
export interface AnonymizeSettings {
  readonly inputDir: string;
  readonly outputDir: string;
  readonly quarantineDir: string;
  readonly identityDb: string;
  readonly identity: IdentityMapOptions;
  readonly profile: ProfileOptions;
  /** The site's reviewed private attributes (config privateKeep); applied only with profile.retainSafePrivate. */
  readonly privateKeep?: readonly SitePrivateRule[];
  readonly quarantine: QuarantineRules;
  /** Parsed dicom_limited_vocabulary.json, or undefined for none. */
  readonly whiteList?: unknown;
  /** Worker threads; 1 runs in the calling thread. Default: one per core, at most 4. */
  readonly workers?: number;
}
