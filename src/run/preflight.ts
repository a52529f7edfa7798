import type { PipelineConfig } from '../config/schema';
import { PipelineError } from '../errors';
import { echo } from '../scu/query';
import type { NetworkOptions } from '../scu/options';
import { formatPeer, type Peer } from '../scu/peer';
import type { Peers, RunOptions } from './context';

/** The peers a run needs, every missing key listed at once. */
export function peersFromConfig(config: PipelineConfig, options: RunOptions): Peers {
  const missing: string[] = [];
  if (!config.local) missing.push('local ({"aet": ..., "port": ...})');
  if (!config.staging) missing.push('staging ({"aet": ..., "host": ..., "port": ...})');
  const pushing = !options.practice && !options.noPush;
  if (pushing && !config.research) missing.push('research ({"aet": ..., "host": ..., "port": ...}), or run with --no-push or --practice');
  if (!config.review) missing.push('review ({"csv": FILE} or {"sqlite": FILE})');
  if (missing.length) throw new PipelineError('E_CONFIG', `the config lacks what a run needs:\n  ${missing.join('\n  ')}`);
  const staging: Peer = { aeTitle: config.staging!.aet, host: config.staging!.host, port: config.staging!.port };
  const research: Peer | undefined = config.research && { aeTitle: config.research.aet, host: config.research.host, port: config.research.port };
  if (research && sameEndpoint(staging, research)) {
    throw new PipelineError('E_CONFIG', `research and staging are the same peer (${formatPeer(staging)}): identified data must never be sent back; fix "research" in the config`);
  }
  return {
    local: { aet: config.local!.aet, port: config.local!.port, allowedCallingAets: config.local!.allowedCallingAets ?? [staging.aeTitle] },
    staging,
    research,
  };
}

function sameEndpoint(a: Peer, b: Peer): boolean {
  const host = (h: string): string => (h === 'localhost' || h === '::1' ? '127.0.0.1' : h.toLowerCase());
  return host(a.host) === host(b.host) && a.port === b.port;
}

/** C-ECHO each peer the remaining steps need, before anything moves. */
export async function echoPeers(peers: readonly Peer[], callingAet: string, network: NetworkOptions): Promise<string[]> {
  const lines: string[] = [];
  for (const peer of peers) {
    const result = await echo(peer, callingAet, network);
    lines.push(`C-ECHO ${formatPeer(peer)}: ok (${result.elapsedMs} ms)`);
  }
  return lines;
}
