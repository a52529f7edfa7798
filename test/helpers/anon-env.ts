import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeidentifyContext } from '../../src/anon/deidentify';
import { IdentityMap } from '../../src/anon/identity/identity-map';
import { DEFAULT_PROFILE, type ProfileOptions } from '../../src/anon/options';
import { RuleBook } from '../../src/anon/rules/resolve';
import type { SitePrivateRule } from '../../src/anon/rules/private-rules';
import { WhiteList } from '../../src/anon/white-list';

export function tempDir(prefix = 'dp-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A de-identification context on a fresh identity.db and key in a temp dir. */
export function anonContext(profile: Partial<ProfileOptions> = {}, whiteList: unknown = {}, privateKeep: readonly SitePrivateRule[] = []): DeidentifyContext & { identity: IdentityMap; dir: string; close(): void } {
  const { dir, cleanup } = tempDir();
  const options = { ...DEFAULT_PROFILE, ...profile };
  const identity = IdentityMap.open(join(dir, 'identity.db'), { keyFile: join(dir, 'key') });
  return {
    dir,
    rules: new RuleBook(options, privateKeep),
    identity,
    whiteList: WhiteList.fromJson(whiteList, 'test white list'),
    options,
    toolVersion: 'test',
    close: () => {
      void identity.close();
      cleanup();
    },
  };
}
