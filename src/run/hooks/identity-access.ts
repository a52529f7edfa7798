import Database from 'better-sqlite3';

/**
 * Read-only access to the run's identity map for hooks (they may not have better-sqlite3 beside
 * them). The views patient, studyuid, seriesuid, sopinstanceuid, accession_no and the table
 * study_patient are documented in the README.
 */
export function openIdentityDb(path: string): Database.Database {
  return new Database(path, { readonly: true, fileMustExist: true });
}
