import { PipelineError, type ErrorCode } from '../errors';

export const EXIT_OK = 0;
/** A step failed: fix the cause, then resume. */
export const EXIT_FAILED = 1;
/** Bad usage or configuration. */
export const EXIT_USAGE = 2;
/** Completed, but some studies or files could not be moved. */
export const EXIT_PARTIAL = 3;

const BY_CODE: Partial<Record<ErrorCode, number>> = { E_CONFIG: EXIT_USAGE, E_USAGE: EXIT_USAGE };

export function exitCodeFor(err: unknown): number {
  return err instanceof PipelineError ? BY_CODE[err.code] ?? EXIT_FAILED : EXIT_FAILED;
}
