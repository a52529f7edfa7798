import { IdentityMap } from './identity-map';
import { PgIdentityStore } from './pg-store';
import { isPostgresUrl, type IdentityStore, type IdentityStoreOptions } from './store';

/** identityDb is a file (SQLite) or a postgres:// URL (PostgreSQL). */
export async function openIdentityStore(target: string, options: IdentityStoreOptions = {}): Promise<IdentityStore> {
  if (isPostgresUrl(target)) return PgIdentityStore.open(target, options);
  return IdentityMap.open(target, options);
}
