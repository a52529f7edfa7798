import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors';
import { StorageScp, SCP_DEFAULTS, type ScpCounts } from '../../scp/server';
import { validateAeTitle, validatePort } from '../../scu/peer';
import { createLogger } from '../../util/logger';
import { addTlsFlags, parseAeList, parseList, positiveNumber, tlsFromFlags, type TlsFlags } from './network-common';

interface ListenFlags extends TlsFlags {
  aet: string;
  port: string;
  out: string;
  host?: string;
  allowAet?: string;
  allowHost?: string;
  maxAssociations?: string;
  idleTimeout?: string;
  timeout?: string;
  associationTimeout?: string;
}

function formatCounts(c: ScpCounts): string {
  return `stored ${c.stored} (${(c.bytes / 1e6).toFixed(1)} MB), failed ${c.failed}, associations ${c.associations}, rejected ${c.rejectedAssociations}${c.tlsRefused ? `, TLS refused ${c.tlsRefused}` : ''}` +
    (c.duplicates ? `, ${c.duplicates} different instances under an already stored SOP Instance UID (kept as <SOP>.dup-<n>.dcm)` : '');
}

/** A timeout in seconds: more than zero (zero would abort every association at once). */
function positiveSeconds(text: string | undefined, flag: string): number | undefined {
  const n = positiveNumber(text, flag);
  if (n === 0) throw new PipelineError('E_USAGE', `${flag} expects a number of seconds greater than 0`);
  return n;
}

export function register(program: Command): void {
  addTlsFlags(program
    .command('listen')
    .description('Run the Storage SCP standalone until interrupted: <out>/<Study>/<Series>/<SOP>.dcm')
    .requiredOption('--aet <ae>', 'our AE title (the called AE peers must use)')
    .requiredOption('--port <n>', 'TCP port to listen on')
    .requiredOption('--out <dir>', 'where received instances are written')
    .option('--host <address>', 'bind address (default: all interfaces)')
    .option('--allow-aet <list>', 'comma-separated calling AE titles allowed to store (default: any)')
    .option('--allow-host <list>', 'comma-separated peer IP addresses allowed to connect (default: any)')
    .option('--max-associations <n>', `simultaneous associations (default ${SCP_DEFAULTS.maxAssociations})`)
    .option('--idle-timeout <s>', `seconds an association may send nothing before it is aborted (default ${SCP_DEFAULTS.idleTimeoutMs / 1000})`)
    .option('--timeout <s>', 'older name of --idle-timeout')
    .option('--association-timeout <s>', `seconds from connect to a complete association request before the connection is closed (default ${SCP_DEFAULTS.associationTimeoutMs / 1000})`))
    .action(async (flags: ListenFlags) => {
      const timeout = positiveSeconds(flags.idleTimeout ?? flags.timeout, flags.idleTimeout !== undefined ? '--idle-timeout' : '--timeout');
      const artim = positiveSeconds(flags.associationTimeout, '--association-timeout');
      const scp = new StorageScp({
        aeTitle: validateAeTitle(flags.aet),
        port: validatePort(flags.port, '--port'),
        host: flags.host,
        outDir: resolve(flags.out),
        allowedCallingAets: parseAeList(flags.allowAet, '--allow-aet'),
        allowedAddresses: parseList(flags.allowHost),
        maxAssociations: positiveNumber(flags.maxAssociations, '--max-associations', true),
        idleTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
        tls: tlsFromFlags(flags),
        associationTimeoutMs: artim === undefined ? undefined : artim * 1000,
        logger: createLogger(),
      });
      await scp.start();
      process.stdout.write(`listening as ${flags.aet} on ${flags.host ?? '*'}:${scp.port}${flags.tlsCa ? ' (DICOM TLS only)' : ''}, writing to ${resolve(flags.out)} (Ctrl-C to stop)\n`);
      let last = '';
      const ticker = setInterval(() => {
        const line = formatCounts(scp.counts);
        if (line !== last) process.stdout.write(`${line}\n`);
        last = line;
      }, 5000);
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      clearInterval(ticker);
      await scp.stop();
      process.stdout.write(`stopped: ${formatCounts(scp.counts)}\n`);
    });
}
