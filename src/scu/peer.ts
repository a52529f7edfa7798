import { PipelineError } from '../errors';
import type { TlsSettings } from '../tls/settings';

/** A remote application entity: AE title and network address, and DICOM TLS when it needs it. */
export interface Peer {
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  /** Every association to this peer uses TLS with these settings. */
  readonly tls?: TlsSettings;
}

/** AE titles: 1-16 characters of the default repertoire, no backslash or control characters (PS3.5 6.2). */
export function validateAeTitle(aet: string, what = 'AE title'): string {
  const trimmed = aet.trim();
  if (trimmed.length === 0 || aet.length > 16 || /[\\\x00-\x1f\x7f-\uffff]/.test(aet)) {
    throw new PipelineError('E_USAGE', `invalid ${what} "${aet}": 1 to 16 ASCII characters, no backslash`);
  }
  return trimmed;
}

export function validatePort(text: string | number, what = 'port'): number {
  const port = typeof text === 'number' ? text : Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PipelineError('E_USAGE', `invalid ${what} "${text}": expected 1 to 65535`);
  return port;
}

/** Parses AE@host:port (IPv6 hosts in brackets: AE@[::1]:104). */
export function parsePeer(text: string): Peer {
  const match = /^([^@]+)@(\[[^\]]+\]|[^:@[\]]+):(\d+)$/.exec(text.trim());
  if (!match) throw new PipelineError('E_USAGE', `invalid peer "${text}": expected AE@host:port, e.g. STAGING@pacs.example.org:104`);
  const host = match[2].startsWith('[') ? match[2].slice(1, -1) : match[2];
  return { aeTitle: validateAeTitle(match[1]), host, port: validatePort(match[3]) };
}

export function formatPeer(peer: Peer): string {
  const host = peer.host.includes(':') ? `[${peer.host}]` : peer.host;
  return `${peer.aeTitle}@${host}:${peer.port}`;
}
