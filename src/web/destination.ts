/**
 * A DICOMweb research destination (STOW-RS to store, QIDO-RS to confirm): its base URL, how we
 * authenticate and which certificates we trust. The URL never carries a credential, so it can be
 * printed anywhere; secrets stay in the files (or the command) the config names.
 */
import { PipelineError } from '../errors';

export type WebAuth =
  | { readonly basic: { readonly user: string; readonly passwordFile: string } }
  | { readonly bearer: { readonly tokenFile: string } | { readonly tokenCommand: string } };

export interface WebTls {
  /** PEM bundle of the certificate authorities we trust (instead of Node's built-in list). */
  readonly ca?: string;
  /** Our client certificate and its key (PEM), for archives that require mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
  /** Lowest TLS version (default: Node's, 1.2). */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** false: the certificate need not name the host (its chain is still verified). */
  readonly checkHostname?: boolean;
}

/** How a push to a DICOMweb archive confirms delivery (storage commitment is DIMSE-only). */
export type WebConfirmMode = 'auto' | 'find' | 'none';

export interface WebDestination {
  /** Base URL of the DICOMweb service, e.g. https://archive.example.org/dicom-web (no trailing slash). */
  readonly url: string;
  readonly auth?: WebAuth;
  readonly tls?: WebTls;
  /** Instances per STOW-RS request (default 50). */
  readonly filesPerRequest?: number;
  /** Body size per STOW-RS request in MiB; a single larger file goes alone (default 64). */
  readonly megabytesPerRequest?: number;
  /** STOW-RS requests in flight at once (default: network.associations). */
  readonly parallelRequests?: number;
  /** auto: QIDO-RS when the archive offers it; find: QIDO-RS required; none: no confirmation. */
  readonly confirm?: WebConfirmMode;
}

export const WEB_DEFAULTS = Object.freeze({ filesPerRequest: 50, megabytesPerRequest: 64 });

/** A research destination given as a URL rather than AE@host:port. */
export function isWebUrl(text: string): boolean {
  return /^https?:\/\//i.test(text.trim());
}

/**
 * Checks and normalizes a DICOMweb base URL. A URL with a user or password in it is refused without
 * being echoed: it would put a secret into shell history, logs and the run directory.
 */
export function webUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return 'expected an http:// or https:// URL, e.g. https://archive.example.org/dicom-web';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `expected http:// or https://, got ${url.protocol}//`;
  if (url.username || url.password) return 'must not contain a user or password: give them with auth.basic (user + passwordFile) or --user/--password-file';
  if (url.search || url.hash) return 'must not have a query or fragment: give the base URL of the DICOMweb service';
  return undefined;
}

export function parseWebUrl(text: string, what = 'DICOMweb URL'): string {
  const problem = webUrlProblem(text);
  // The text itself is not repeated: it may hold a password.
  if (problem) throw new PipelineError('E_USAGE', `invalid ${what}: ${problem}`);
  return new URL(text.trim()).href.replace(/\/+$/, '');
}
