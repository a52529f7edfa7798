import { resolve } from 'node:path';
import type { FileEnvironment } from './anonymize-file';
import { IdentityMap } from './identity/identity-map';
import { RuleBook } from './rules/resolve';
import type { AnonymizeSettings } from './settings';
import { WhiteList } from './white-list';
import { phiIgnoreSet } from './verify';

export const TOOL_VERSION: string = require('../../../package.json').version;

/** Opens the identity map and builds the rules for one thread. */
export function createEnvironment(settings: AnonymizeSettings, claim: FileEnvironment['claim']): FileEnvironment & { close(): void } {
  const identity = IdentityMap.open(settings.identityDb, settings.identity);
  const whiteList = settings.whiteList === undefined ? new WhiteList() : WhiteList.fromJson(settings.whiteList, 'white list');
  return {
    rules: new RuleBook(settings.profile, settings.privateKeep),
    identity,
    whiteList,
    phiIgnore: phiIgnoreSet(whiteList),
    options: settings.profile,
    toolVersion: TOOL_VERSION,
    inputRoot: resolve(settings.inputDir),
    outputDir: resolve(settings.outputDir),
    quarantineDir: resolve(settings.quarantineDir),
    identityDb: resolve(settings.identityDb),
    quarantine: settings.quarantine,
    claim,
    close: () => identity.close(),
  };
}
