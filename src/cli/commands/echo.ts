import type { Command } from 'commander';
import { echo } from '../../scu/query';
import { formatPeer, parsePeer, validateAeTitle } from '../../scu/peer';
import { addNetworkFlags, addTlsFlags, DEFAULT_CALLING_AET, networkFromFlags, tlsFromFlags, type NetworkFlags, type TlsFlags } from './network-common';

export function register(program: Command): void {
  addTlsFlags(addNetworkFlags(
    program
      .command('echo')
      .description('Verify a DICOM peer answers (C-ECHO)')
      .argument('<peer>', 'AE@host:port')
      .option('--aet <ae>', `our calling AE title (default ${DEFAULT_CALLING_AET})`),
  )).action(async (peerText: string, flags: NetworkFlags & TlsFlags & { aet?: string }) => {
    const peer = { ...parsePeer(peerText), tls: tlsFromFlags(flags) };
    const callingAet = validateAeTitle(flags.aet ?? DEFAULT_CALLING_AET, 'calling AE title');
    const result = await echo(peer, callingAet, networkFromFlags(flags));
    process.stdout.write(`C-ECHO ${formatPeer(peer)}: success (${result.elapsedMs} ms${result.tls ? `, ${result.tls}` : ''})\n`);
  });
}
