/**
 * A real Orthanc (Debian `orthanc`, /usr/sbin/Orthanc) for integration tests and benchmarks: own temp
 * directory, free ports, given AE title and DicomModalities, no plugins, TCP_NODELAY=1, HTTP on
 * loopback only. Always stop it (test `after` hook); a process exit handler kills it otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { stopChild, track } from './processes';

export const ORTHANC_BINARY = process.env.ORTHANC_BINARY ?? '/usr/sbin/Orthanc';

export interface Modality {
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  /** Orthanc opens its connections to this modality (C-MOVE sub-associations) with TLS. */
  readonly tls?: boolean;
}

/** DICOM TLS for Orthanc's port (then TLS-only) and its outgoing associations. */
export interface OrthancTls {
  readonly cert: string;
  readonly key: string;
  /** Trusted certificates (CA bundle) for peers' certificates; Orthanc 1.10 does not start without it. */
  readonly ca: string;
  /** DicomTlsRemoteCertificateRequired (default true: mutual TLS). */
  readonly requireClientCert?: boolean;
}

export interface OrthancOptions {
  readonly aeTitle: string;
  /** Peers it may exchange with, by symbolic name (calling AEs and C-MOVE destinations). */
  readonly modalities?: Readonly<Record<string, Modality>>;
  readonly dicomPort?: number;
  readonly tls?: OrthancTls;
  /** Extra configuration keys, merged last. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** The user of RegisteredUsers the helper itself uses when the config turns on authentication. */
  readonly http?: RestAccess;
}

export interface RestAccess {
  readonly user?: string;
  readonly password?: string;
}

export interface OrthancInstance {
  /** Orthanc's resource id. */
  readonly id: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
}

export class Orthanc {
  private constructor(
    readonly aeTitle: string,
    readonly dicomPort: number,
    readonly httpPort: number,
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly logFile: string,
    private readonly access: RestAccess,
  ) {}

  static async start(options: OrthancOptions): Promise<Orthanc> {
    const dir = mkdtempSync(join(tmpdir(), `orthanc-${options.aeTitle.toLowerCase()}-`));
    const dicomPort = options.dicomPort ?? (await freePort());
    const httpPort = await freePort();
    const modalities: Record<string, unknown> = {};
    for (const [name, m] of Object.entries(options.modalities ?? {})) modalities[name] = modalityConfig(m);
    const config = {
      Name: options.aeTitle,
      StorageDirectory: join(dir, 'db'),
      IndexDirectory: join(dir, 'db'),
      DicomAet: options.aeTitle,
      DicomPort: dicomPort,
      HttpPort: httpPort,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      Plugins: [],
      DicomModalities: modalities,
      DicomCheckCalledAet: true,
      DicomAlwaysAllowEcho: true,
      DicomScpTimeout: 30,
      DicomScuTimeout: 10,
      UnknownSopClassAccepted: true,
      StorageCompression: false,
      SaveJobs: false,
      ...(options.tls ? tlsConfig(options.tls) : {}),
      ...options.config,
    };
    const configFile = join(dir, 'orthanc.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const logFile = join(dir, 'orthanc.log');
    const child = spawn(ORTHANC_BINARY, [`--logfile=${logFile}`, configFile], {
      env: { ...process.env, TCP_NODELAY: '1' },
      stdio: 'ignore',
    });
    track(child);
    const orthanc = new Orthanc(options.aeTitle, dicomPort, httpPort, dir, child, logFile, options.http ?? {});
    await orthanc.waitReady(15_000);
    return orthanc;
  }

  get modality(): Modality {
    return { aeTitle: this.aeTitle, host: '127.0.0.1', port: this.dicomPort };
  }

  /** AE@host:port, as our CLI takes it. */
  get address(): string {
    return `${this.aeTitle}@127.0.0.1:${this.dicomPort}`;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Base URL of its HTTP server. */
  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async rest<T = unknown>(method: string, path: string, body?: Buffer | string | object): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
    const res = await this.send(method, path, payload);
    if (res.status < 200 || res.status >= 300) throw new Error(`Orthanc ${method} ${path}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
    return (res.type.includes('json') ? JSON.parse(res.body.toString('utf8')) : res.body) as T;
  }

  private send(method: string, path: string, payload?: Buffer | string): Promise<{ status: number; type: string; body: Buffer }> {
    const { user, password } = this.access;
    const headers: Record<string, string> = user ? { authorization: `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}` } : {};
    return new Promise((resolve, reject) => {
      const req = http.request(`${this.httpUrl}${path}`, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Stores a DICOM file through REST; returns Orthanc's instance id. */
  async upload(file: string | Buffer): Promise<string> {
    const data = Buffer.isBuffer(file) ? file : readFileSync(file);
    const answer = await this.rest<{ ID: string }>('POST', '/instances', data);
    return answer.ID;
  }

  async instanceIds(): Promise<string[]> {
    return this.rest<string[]>('GET', '/instances');
  }

  /** Every stored instance with its UIDs. */
  async instances(): Promise<OrthancInstance[]> {
    const ids = await this.instanceIds();
    const out: OrthancInstance[] = [];
    for (const id of ids) {
      const tags = await this.rest<Record<string, string>>('GET', `/instances/${id}/simplified-tags`);
      out.push({ id, sopInstanceUid: tags.SOPInstanceUID, studyInstanceUid: tags.StudyInstanceUID, seriesInstanceUid: tags.SeriesInstanceUID });
    }
    return out;
  }

  /** The file exactly as Orthanc stored it. */
  async instanceFile(id: string): Promise<Buffer> {
    return this.rest<Buffer>('GET', `/instances/${id}/file`);
  }

  async setModality(name: string, modality: Modality): Promise<void> {
    await this.rest('PUT', `/modalities/${name}`, modalityConfig(modality));
  }

  /** Deletes every patient (and so every instance). */
  async clear(): Promise<void> {
    for (const id of await this.rest<string[]>('GET', '/patients')) await this.rest('DELETE', `/patients/${id}`);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`Orthanc exited with ${this.child.exitCode}: ${this.log().slice(-2000)}`);
      try {
        await this.rest('GET', '/system');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await this.stop();
    throw new Error(`Orthanc ${this.aeTitle} not ready within ${timeoutMs} ms`);
  }
}

/** Orthanc's object form of a DicomModalities entry (the only one that takes UseDicomTls). */
function modalityConfig(m: Modality): Record<string, unknown> {
  return { AET: m.aeTitle, Host: m.host, Port: m.port, ...(m.tls ? { UseDicomTls: true } : {}) };
}

function tlsConfig(tls: OrthancTls): Record<string, unknown> {
  return {
    DicomTlsEnabled: true,
    DicomTlsCertificate: tls.cert,
    DicomTlsPrivateKey: tls.key,
    DicomTlsTrustedCertificates: tls.ca,
    DicomTlsRemoteCertificateRequired: tls.requireClientCert ?? true,
  };
}
