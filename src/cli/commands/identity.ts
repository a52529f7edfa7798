import type { Command } from 'commander';
import { migrateIdentity } from '../../anon/identity/migrate';
import { storeTarget } from '../../anon/settings-from-config';
import { loadConfig } from '../../config/load';
import { redactUrl, isPostgresUrl } from '../../anon/identity/store';

interface MigrateFlags {
  from: string;
  to: string;
  config?: string;
}

export function register(program: Command): void {
  const identity = program.command('identity').description('Manage the identity store (the map from originals to pseudonyms)');
  identity
    .command('migrate')
    .description('Copy every mapping of one identity store into another (e.g. identity.db into PostgreSQL); refuses conflicting mappings, re-running copies nothing')
    .requiredOption('--from <store>', 'source: an identity.db file or a postgres:// URL')
    .requiredOption('--to <store>', 'target: a postgres:// URL or an identity.db file (created if missing)')
    .option('-c, --config <file>', 'config file, for keyFile (default: ./dicom-pipeline.json if present)')
    .action(async (flags: MigrateFlags) => {
      const { config } = loadConfig(flags.config);
      const result = await migrateIdentity(storeTarget(flags.from), storeTarget(flags.to), config.keyFile);
      const shown = (s: string): string => (isPostgresUrl(s) ? redactUrl(s) : s);
      process.stdout.write(`${shown(flags.from)} -> ${shown(flags.to)}: same key fingerprint; every mapping checked\n`);
      for (const t of result.tables) process.stdout.write(`  ${t.table.padEnd(14)} ${String(t.rows).padStart(9)} rows: ${t.copied} copied, ${t.present} already there\n`);
    });
}
