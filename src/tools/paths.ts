import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, relative, resolve, isAbsolute } from 'node:path';
import { PipelineError } from '../errors';

/** The real path of an existing directory, or a usage error naming the option. */
export function requireDirectory(path: string, what: string): string {
  if (!existsSync(path)) throw new PipelineError('E_USAGE', `${what} ${path} does not exist`);
  if (!statSync(path).isDirectory()) throw new PipelineError('E_USAGE', `${what} ${path} is not a directory`);
  return realpathSync(path);
}

/** True when child is parent itself or lies under it (paths already resolved). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel));
}

/** The real path a not-yet-existing path would have: its nearest existing ancestor resolved. */
export function realPathOfFuture(path: string): string {
  let p = resolve(path);
  const rest: string[] = [];
  while (!existsSync(p) && dirname(p) !== p) {
    rest.unshift(p.slice(dirname(p).length).replace(/^\//, ''));
    p = dirname(p);
  }
  return resolve(realpathSync(p), ...rest);
}
