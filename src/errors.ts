/** Typed errors: each has a code that the CLI maps to an exit code and a one-line message without PHI. */
export type ErrorCode =
  | 'E_PARSE' | 'E_CONFIG' | 'E_USAGE' | 'E_IO' | 'E_IDENTITY' | 'E_NETWORK' | 'E_ASSOCIATION'
  | 'E_DIMSE' | 'E_HOOK' | 'E_STEP' | 'E_DISK_FULL' | 'E_INTERNAL' | 'E_TLS';

export class PipelineError extends Error {
  constructor(readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PipelineError';
  }
}

export class DicomParseError extends PipelineError {
  constructor(message: string, readonly offset?: number) {
    super('E_PARSE', offset === undefined ? message : `${message} (at byte ${offset})`);
    this.name = 'DicomParseError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
