/**
 * HTTP(S) requests to one DICOMweb archive with node:http/node:https: request bodies are streamed
 * (a STOW-RS body is read from disk as it is sent, never assembled in memory), connections are kept
 * alive and reused, and a CA bundle or client certificate goes straight to Node's TLS. (Node 20's
 * built-in fetch would need the undici package's Agent for those, and buffers nothing better.)
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { PipelineError } from '../errors';
import type { Credential } from './credentials';
import type { WebTls } from './destination';

export interface WebResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Why a request got no HTTP answer. */
export type TransportFailure = 'connect' | 'reset' | 'timeout' | 'tls' | 'other';

export class WebTransportError extends PipelineError {
  constructor(readonly failure: TransportFailure, message: string, cause?: unknown) {
    super('E_NETWORK', message, { cause });
    this.name = 'WebTransportError';
  }
}

export interface WebClientOptions {
  readonly url: string;
  readonly tls?: WebTls;
  readonly credential: Credential;
  readonly connectTimeoutMs: number;
  /** Silence allowed while sending or waiting for the answer. */
  readonly responseTimeoutMs: number;
  readonly maxSockets: number;
  /** Answers larger than this are refused (a QIDO-RS listing of a huge study stays far below). */
  readonly maxResponseBytes?: number;
}

export interface WebRequest {
  readonly method: 'GET' | 'POST';
  /** Appended to the base URL, e.g. "/studies". */
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  /** A fresh stream each call (a retry sends the body again), and its exact length. */
  readonly body?: { readonly open: () => Readable; readonly length: number };
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_OSSL)/;

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new PipelineError('E_CONFIG', `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

export class WebClient {
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly secure: boolean;

  constructor(private readonly options: WebClientOptions) {
    this.base = new URL(options.url);
    this.secure = this.base.protocol === 'https:';
    const common = { keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' as const };
    this.agent = this.secure
      ? new https.Agent({
          ...common,
          ca: readPem(options.tls?.ca, 'CA bundle (research.tls.ca)'),
          cert: readPem(options.tls?.cert, 'client certificate (research.tls.cert)'),
          key: readPem(options.tls?.key, 'client key (research.tls.key)'),
          minVersion: options.tls?.minVersion,
          ...(options.tls?.checkHostname === false ? { checkServerIdentity: () => undefined } : {}),
        })
      : new http.Agent(common);
  }

  /** The base URL, safe to print (it never holds a credential). */
  get url(): string {
    return this.options.url;
  }

  get credential(): Credential {
    return this.options.credential;
  }

  close(): void {
    this.agent.destroy();
  }

  async request(req: WebRequest): Promise<WebResponse> {
    const authorization = await this.options.credential.header();
    const url = new URL(this.base.href.replace(/\/*$/, '') + req.path);
    const headers: OutgoingHttpHeaders = { ...req.headers };
    if (authorization) headers.authorization = authorization;
    if (req.body) headers['content-length'] = req.body.length;
    const transport = this.secure ? https : http;
    const limit = this.options.maxResponseBytes ?? 256 << 20;
    return new Promise<WebResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        request.destroy();
        reject(this.classify(err, req));
      };
      const connectTimer = setTimeout(() => fail(new WebTransportError('connect', `no connection to ${this.url} within ${this.options.connectTimeoutMs / 1000} s`)), this.options.connectTimeoutMs);
      const request = transport.request(url, { method: req.method, headers, agent: this.agent, timeout: this.options.responseTimeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) fail(new WebTransportError('other', `the answer of ${this.url}${req.path} exceeds ${limit >> 20} MiB`));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('aborted', () => fail(Object.assign(new Error('answer cut off'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      request.on('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once(this.secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      request.on('timeout', () => fail(new WebTransportError('timeout', `no answer from ${this.url}${req.path} within ${this.options.responseTimeoutMs / 1000} s`)));
      request.on('error', fail);
      request.on('close', () => clearTimeout(connectTimer));
      if (!req.body) {
        request.end();
        return;
      }
      const body = req.body.open();
      body.on('error', fail);
      body.pipe(request);
    });
  }

  private classify(err: unknown, req: WebRequest): WebTransportError | PipelineError {
    if (err instanceof PipelineError) return err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const where = `${this.url}${req.path}`;
    if (/_ALERT_/.test(code)) {
      // The archive's side of the handshake refused us: almost always our client certificate (missing or untrusted).
      return new WebTransportError('tls', `TLS with ${this.url} failed (${code}): the archive refused the connection; it may require a client certificate it trusts (research.tls.cert and key, --tls-cert, --tls-key)`, err);
    }
    if (TLS_CODES.test(code)) {
      return new WebTransportError('tls', `TLS with ${this.url} failed (${code}): check research.tls.ca (--tls-ca) holds the CA that signed its certificate, and the host name`, err);
    }
    if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
      return new WebTransportError('connect', `cannot connect to ${this.url} (${code}): is the archive running and the URL right?`, err);
    }
    if (['ECONNRESET', 'EPIPE', 'ECONNABORTED'].includes(code)) return new WebTransportError('reset', `connection to ${where} lost (${code})`, err);
    return new WebTransportError('other', `request to ${where} failed: ${code || (err as Error).message}`, err);
  }
}
