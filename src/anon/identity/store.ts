import type { Identity, PseudonymOptions } from './pseudonyms';

/**
 * The identity store: SQLite (a file, the embedded default) or PostgreSQL (a postgres:// URL,
 * shared by several instances). De-identification runs synchronously against an Identity; the
 * store decides how that becomes durable.
 */
export interface IdentityStore {
  /** Where the store lives, as it may be shown (never a password). */
  readonly description: string;
  /**
   * Runs fn against the store and commits every mapping it asked for, before resolving. fn must have
   * no effect but its result and the identity calls: a store may run it more than once (PostgreSQL
   * first learns what a batch needs, fetches and maps it in one transaction, then runs it again).
   */
  batch<T>(fn: (identity: Identity) => T): Promise<T>;
  close(): Promise<void>;
}

export type IdentityStoreOptions = PseudonymOptions;

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The URL without its password, for --print-config, logs and descriptions. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(invalid URL)';
  }
}
