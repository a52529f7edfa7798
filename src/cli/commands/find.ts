import type { Command } from 'commander';
import { PipelineError } from '../../errors';
import { find, parseQueryKeys, QUERY_LEVELS, type QueryLevel } from '../../scu/query';
import { parsePeer, validateAeTitle } from '../../scu/peer';
import { addNetworkFlags, addTlsFlags, DEFAULT_CALLING_AET, networkFromFlags, tlsFromFlags, type NetworkFlags, type TlsFlags } from './network-common';

interface FindFlags extends NetworkFlags, TlsFlags {
  aet?: string;
  level: string;
  key: string[];
  json?: boolean;
}

export function register(program: Command): void {
  addTlsFlags(addNetworkFlags(
    program
      .command('find')
      .description('Query a peer (Study Root C-FIND); prints one match per line, or JSON')
      .argument('<peer>', 'AE@host:port')
      .option('--level <level>', 'STUDY, SERIES or IMAGE', 'STUDY')
      .option('-k, --key <Keyword=Value>', 'matching or return key, repeatable (e.g. -k StudyDate=20240101- -k PatientID=)', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--aet <ae>', `our calling AE title (default ${DEFAULT_CALLING_AET})`)
      .option('--json', 'print the matches as a JSON array'),
  )).action(async (peerText: string, flags: FindFlags) => {
    const peer = { ...parsePeer(peerText), tls: tlsFromFlags(flags) };
    const level = flags.level.toUpperCase() as QueryLevel;
    if (!QUERY_LEVELS.includes(level)) throw new PipelineError('E_USAGE', `--level expects STUDY, SERIES or IMAGE, got "${flags.level}"`);
    const keys = parseQueryKeys(flags.key);
    const callingAet = validateAeTitle(flags.aet ?? DEFAULT_CALLING_AET, 'calling AE title');
    const matches = await find(peer, callingAet, level, keys, networkFromFlags(flags));
    if (flags.json) {
      process.stdout.write(JSON.stringify(matches, null, 2) + '\n');
      return;
    }
    const columns = [...new Set(matches.flatMap((m) => Object.keys(m)))].filter((c) => c !== 'QueryRetrieveLevel' && c !== 'SpecificCharacterSet');
    process.stdout.write(columns.join('\t') + '\n');
    for (const m of matches) process.stdout.write(columns.map((c) => m[c] ?? '').join('\t') + '\n');
    process.stderr.write(`${matches.length} match${matches.length === 1 ? '' : 'es'}\n`);
  });
}
