import { resolve } from 'node:path';
import type { FileEnvironment } from './anonymize-file';
import { openIdentityStore } from './identity/open-store';
import { RuleBook } from './rules/resolve';
import type { AnonymizeSettings } from './settings';
import { WhiteList } from './white-list';
import { phiIgnoreSet } from './verify';

export const TOOL_VERSION: string = require('../../../package.json').version;

/** Opens the identity store and builds the rules for one thread. */
export async function createEnvironment(settings: AnonymizeSettings, claim: FileEnvironment['claim']): Promise<FileEnvironment & { close(): Promise<void> }> {
  const store = await openIdentityStore(settings.identityDb, settings.identity);
  const whiteList = settings.whiteList === undefined ? new WhiteList() : WhiteList.fromJson(settings.whiteList, 'white list');
  return {
    rules: new RuleBook(settings.profile, settings.privateKeep),
    store,
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
    close: () => store.close(),
  };
}
