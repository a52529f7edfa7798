import { resolve } from 'node:path';
import type { Command } from 'commander';
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
  timeout?: string;
}

function formatCounts(c: ScpCounts): string {
  return `stored ${c.stored} (${(c.bytes / 1e6).toFixed(1)} MB), failed ${c.failed}, associations ${c.associations}, rejected ${c.rejectedAssociations}${c.tlsRefused ? `, TLS refused ${c.tlsRefused}` : ''}`;
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
    .option('--timeout <s>', `seconds of silence before an association is aborted (default ${SCP_DEFAULTS.idleTimeoutMs / 1000})`))
    .action(async (flags: ListenFlags) => {
      const timeout = positiveNumber(flags.timeout, '--timeout');
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
