import { isPostgresUrl } from '../../anon/identity/store';
import { PipelineError } from '../../errors';
import Database from 'better-sqlite3';

/**
 * Read-only access to the run's identity map for hooks (they may not have better-sqlite3 beside
 * them). The views patient, studyuid, seriesuid, sopinstanceuid, accession_no and the table
 * study_patient are documented in the README.
 */
export function openIdentityDb(path: string): Database.Database {
  if (isPostgresUrl(path)) {
    throw new PipelineError('E_HOOK', 'identityDb is a PostgreSQL store: query it with the pg client (same tables and views), not openIdentityDb');
  }
  return new Database(path, { readonly: true, fileMustExist: true });
}
