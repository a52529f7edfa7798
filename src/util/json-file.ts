import { readFileSync } from 'node:fs';
import { PipelineError } from '../errors';

/** Reads a JSON file; a missing or malformed one is a configuration error naming the file. */
export function readJsonFile(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message;
    throw new PipelineError('E_CONFIG', `${what} ${path}: ${reason}`, { cause: err });
  }
}
