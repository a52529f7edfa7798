import pino, { type Logger } from 'pino';
import { printText } from './progress';

export type { Logger };

export interface LoggerOptions {
  /** Append JSON lines here; otherwise to stderr. */
  readonly file?: string;
  readonly level?: pino.Level | 'silent';
  /**
   * Called (once per failure) when the log file cannot be written, e.g. a full disk: logging then
   * never throws into the code that logged, whose work may be a C-STORE being answered.
   */
  readonly onWriteError?: (err: NodeJS.ErrnoException) => void;
}

/**
 * Our only logger (pino JSON). Callers log counts, hashed or new UIDs and codes: never a value
 * taken from an identified dataset (house rule 6).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.DICOM_PIPELINE_LOG_LEVEL as pino.Level | undefined) ?? 'warn';
  const destination = options.file
    ? pino.destination({ dest: options.file, mkdir: true, sync: true, append: true })
    : { write: (record: string) => printText(record, process.stderr) }; // above any progress bar
  // Without a listener, a failed write (ENOSPC) is thrown from whatever line logged.
  if ('on' in destination) destination.on('error', (err: NodeJS.ErrnoException) => options.onWriteError?.(err));
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

export const silentLogger: Logger = pino({ level: 'silent' });
