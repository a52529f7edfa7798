import { existsSync } from 'node:fs';
import Module from 'node:module';
import { join, resolve } from 'node:path';
import { PipelineError } from '../../errors';
import { registry, type Hook } from './registry';

export const CUSTOM_HOOKS_FILE = 'custom_hooks.js';
const PACKAGE_HOOKS = 'dicom-pipeline/hooks';

let aliased = false;

/** Lets custom_hooks.js require('dicom-pipeline/hooks') whether or not the package is installed beside it. */
function aliasPackageHooks(): void {
  if (aliased) return;
  aliased = true;
  const target = join(__dirname, 'index.js');
  const mod = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return request === PACKAGE_HOOKS ? target : original.call(this, request, ...rest);
  };
}

/** Loads ./custom_hooks.js (if present) and returns the named hook; an unknown name lists the known ones. */
export function resolveHook(name: string, cwd = process.cwd()): Hook {
  const file = resolve(cwd, CUSTOM_HOOKS_FILE);
  if (existsSync(file)) {
    aliasPackageHooks();
    try {
      require(file);
    } catch (err) {
      throw new PipelineError('E_CONFIG', `${CUSTOM_HOOKS_FILE} failed to load: ${(err as Error).message}`, { cause: err });
    }
  }
  const hook = registry.get(name);
  if (!hook) {
    throw new PipelineError('E_CONFIG', `postAnonHook "${name}" is not registered; known hooks: ${registry.names().join(', ')}` +
      (existsSync(file) ? '' : ` (no ${CUSTOM_HOOKS_FILE} in ${cwd})`));
  }
  return hook;
}
