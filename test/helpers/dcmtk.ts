/** Running dcmtk tools (storescu, echoscu, movescu, storescp, dcmqrscp) as peers, with TCP_NODELAY=1. */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { stopChild, track } from './processes';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, TCP_NODELAY: '1' } });
    track(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** storescu proposes uncompressed syntaxes (explicit first) unless told: the option that proposes a file's own first. */
const STORESCU_PROPOSE: Record<string, string> = {
  '1.2.840.10008.1.2': '-xi',
  '1.2.840.10008.1.2.1': '-xe',
  '1.2.840.10008.1.2.2': '-xb',
  '1.2.840.10008.1.2.1.99': '-xd',
  '1.2.840.10008.1.2.4.50': '-xy',
  '1.2.840.10008.1.2.4.51': '-xx',
  '1.2.840.10008.1.2.4.57': '-xs',
  '1.2.840.10008.1.2.4.70': '-xs',
  '1.2.840.10008.1.2.4.80': '-xt',
  '1.2.840.10008.1.2.4.81': '-xu',
  '1.2.840.10008.1.2.4.90': '-xv',
  '1.2.840.10008.1.2.4.91': '-xw',
  '1.2.840.10008.1.2.5': '-xr',
};

export function storescuArgs(transferSyntaxUid: string): string[] {
  const flag = STORESCU_PROPOSE[transferSyntaxUid];
  return flag ? [flag] : [];
}

/** dcmtk's TLS options: its key and certificate, the CA that peers' certificates must lead to. */
export function dcmtkTls(files: { readonly key: string; readonly cert: string }, ca: string): string[] {
  return ['+tls', files.key, files.cert, '+cf', ca];
}

/** A dcmtk server (storescp, dcmqrscp) started by a test: stop it in an `after` hook. */
export interface DcmtkServer {
  readonly aeTitle: string;
  readonly port: number;
  /** AE@host:port, as our CLI takes it. */
  readonly address: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a dcmtk server (TCP_NODELAY=1) and resolves once its port accepts connections. */
export async function startDcmtkServer(command: string, args: readonly string[], aeTitle: string, port: number, cwd?: string): Promise<DcmtkServer> {
  const child = spawn(command, args, { cwd, env: { ...process.env, TCP_NODELAY: '1' } });
  track(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const server: DcmtkServer = {
    aeTitle,
    port,
    address: `${aeTitle}@127.0.0.1:${port}`,
    output: () => output,
    stop: () => stopChild(child),
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await server.stop();
      throw new Error(`${command} did not start on port ${port}: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

/** storescp as a store-only archive writing into dir; `+B` keeps the received bytes unchanged. */
export function startStorescp(dir: string, port: number, options: readonly string[] = []): Promise<DcmtkServer> {
  return startDcmtkServer('storescp', ['--aetitle', 'STORESCP', '--output-directory', dir, ...options, String(port)], 'STORESCP', port);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A move destination dcmqrscp may send to: its HostTable entry. */
export interface DcmqrscpPeer {
  readonly aeTitle: string;
  readonly port: number;
}

/**
 * dcmqrscp as a small Q/R SCP (a staging PACS that is not Orthanc): Study Root C-FIND and C-MOVE,
 * C-STORE into it from anyone (load it with storescu), moves only to the AEs in `destinations`.
 * One process per association (its --single-process mode exits after the first); database and config in `dir`.
 */
export async function startDcmqrscp(dir: string, port: number, destinations: readonly DcmqrscpPeer[], aeTitle = 'DCMQRSCP'): Promise<DcmtkServer> {
  const storage = join(dir, 'db');
  mkdirSync(storage, { recursive: true });
  const hosts = destinations.map((d, i) => `peer${i} = (${d.aeTitle}, 127.0.0.1, ${d.port})`);
  const config = [
    `NetworkTCPPort = ${port}`,
    'MaxPDUSize = 65536',
    'MaxAssociations = 16',
    'HostTable BEGIN',
    ...hosts,
    'HostTable END',
    'VendorTable BEGIN',
    'VendorTable END',
    'AETable BEGIN',
    `${aeTitle} ${storage} RW (100, 1024mb) ANY`,
    'AETable END',
    '',
  ].join('\n');
  const configFile = join(dir, 'dcmqrscp.cfg');
  writeFileSync(configFile, config);
  return startDcmtkServer('dcmqrscp', ['--config', configFile, String(port)], aeTitle, port);
}
