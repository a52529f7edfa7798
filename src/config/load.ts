import { existsSync } from 'node:fs';
import { readJsonFile } from '../util/json-file';
import { resolve } from 'node:path';
import { PipelineError } from '../errors';
import { configSchema, type PipelineConfig } from './schema';

export const DEFAULT_CONFIG_FILE = 'dicom-pipeline.json';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Validates a config object; a bad one lists every problem with its key and what is expected. */
export function parseConfig(json: unknown, source: string): PipelineConfig {
  const result = configSchema.safeParse(json ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.length ? issue.path.join('.') : '(top level)';
      return `  ${key}: ${issue.message}`;
    });
    throw new PipelineError('E_CONFIG', `${source} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.join('\n')}`);
  }
  return deepFreeze(result.data);
}

/** Loads the given config file, or ./dicom-pipeline.json if present, or the defaults. */
export function loadConfig(path?: string): { config: PipelineConfig; source?: string } {
  const file = path ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (!file) return { config: parseConfig({}, 'defaults') };
  const json = readJsonFile(file, 'config file');
  return { config: parseConfig(json, `config file ${file}`), source: resolve(file) };
}
