import { SCP_DEFAULTS } from '../scp/server';
import { isWebResearch, type PipelineConfig } from '../config/schema';
import { PipelineError } from '../errors';
import { echo } from '../scu/query';
import type { NetworkOptions } from '../scu/options';
import { formatPeer, type Peer } from '../scu/peer';
import { loadTls } from '../tls/settings';
import { parseWebUrl, type WebDestination } from '../web/destination';
import type { Peers, RunOptions } from './context';

/**
 * The peers a run needs, every missing key listed at once. The TLS files are read here, once, when
 * a peer or our SCP uses TLS; `warn` gets a line per private key others may read.
 */
export function peersFromConfig(config: PipelineConfig, options: RunOptions, warn: (line: string) => void = (line) => process.stderr.write(`warning: ${line}\n`)): Peers {
  const missing: string[] = [];
  if (!config.local) missing.push('local ({"aet": ..., "port": ...})');
  if (!config.staging) missing.push('staging ({"aet": ..., "host": ..., "port": ...})');
  const pushing = !options.practice && !options.noPush;
  if (pushing && !config.research) missing.push('research ({"aet": ..., "host": ..., "port": ...} or {"url": "https://.../dicom-web"}), or run with --no-push or --practice');
  if (!config.review) missing.push('review ({"csv": FILE}, {"sqlite": FILE} or {"postgres": URL})');
  if (missing.length) throw new PipelineError('E_CONFIG', `the config lacks what a run needs:\n  ${missing.join('\n  ')}`);
  const dimse = config.research && !isWebResearch(config.research) ? config.research : undefined;
  const web = config.research && isWebResearch(config.research) ? webDestination(config.research) : undefined;
  const tlsUsed = config.local!.tls || config.staging!.tls || (pushing && dimse?.tls);
  const tls = tlsUsed && config.tls ? loadTls(config.tls, 'the config', warn) : undefined;
  const peerOf = (p: { aet: string; host: string; port: number; tls: boolean }): Peer => ({ aeTitle: p.aet, host: p.host, port: p.port, tls: p.tls ? tls : undefined });
  const staging = peerOf(config.staging!);
  const research = dimse && peerOf(dimse);
  if (research && sameEndpoint(staging, research)) {
    throw new PipelineError('E_CONFIG', `research and staging are the same peer (${formatPeer(staging)}): identified data must never be sent back; fix "research" in the config`);
  }
  return {
    local: {
      aet: config.local!.aet,
      port: config.local!.port,
      allowedCallingAets: config.local!.allowedCallingAets ?? [staging.aeTitle],
      tls: config.local!.tls ? tls : undefined,
      idleTimeoutMs: (config.local!.idleTimeoutS ?? SCP_DEFAULTS.idleTimeoutMs / 1000) * 1000,
    },
    staging,
    research,
    researchWeb: web,
  };
}

/** The config's DICOMweb research archive, its URL normalized (no trailing slash). */
export function webDestination(research: WebDestination): WebDestination {
  return { ...research, url: parseWebUrl(research.url, 'research.url') };
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
    lines.push(`C-ECHO ${formatPeer(peer)}: ok (${result.elapsedMs} ms${result.tls ? `, ${result.tls}` : ''})`);
  }
  return lines;
}
