/**
 * The embedded Storage SCP: listens as one AE title, applies the association policy, and writes
 * every received instance through InstanceWriter before answering. A failed write answers a failure
 * status and the SCP keeps serving. Runs in our process, so it can never outlive the pipeline.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { PipelineError } from '../errors';
import type { EventReportRequest } from '../dicom/dimse-command';
import { normalizeAddress } from '../dicom/dimse-scp';
import { clientCertificateProblem, describeServerTlsError } from '../tls/errors';
import { tlsServerOptions, type TlsSettings } from '../tls/settings';
import { serveScpConnection, type IncomingStore, type StoreReply, type StoreSink } from '../dicom/dimse-scp';
import { STATUS_OUT_OF_RESOURCES, STATUS_PROCESSING_FAILURE, STATUS_SUCCESS, formatStatus } from '../dicom/dimse-status';
import { silentLogger, type Logger } from '../util/logger';
import { decideAssociation, type AssociationPolicy } from './policy';
import { InstanceWriter, RejectedDataset, type StoredInstance } from './store';

export interface StorageScpOptions {
  readonly aeTitle: string;
  readonly port: number;
  /** Bind address; all interfaces when absent (a PACS on another host must reach us). */
  readonly host?: string;
  readonly outDir: string;
  readonly allowedCallingAets?: readonly string[];
  readonly allowedAddresses?: readonly string[];
  readonly maxAssociations?: number;
  readonly maxPduLength?: number;
  readonly associationTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** fsync each file before answering Success, and its directory (batched, see durable.ts); default true. */
  readonly fsync?: boolean;
  /** Longest wait of a rename for its directory fsync (default DIR_SYNC_DELAY_MS, 100 ms). */
  readonly dirSyncDelayMs?: number;
  readonly logger?: Logger;
  /** Accept storage (default true); false for a listener that only takes commitment reports. */
  readonly acceptStorage?: boolean;
  /** Serves Storage Commitment reports (N-EVENT-REPORT-RQ): returns the status to answer. */
  readonly onCommitmentReport?: (request: EventReportRequest) => number;
  /**
   * DICOM TLS on our port, and only TLS: every peer must present a certificate whose chain leads to
   * the CA bundle. A plain association attempt fails its handshake at once.
   */
  readonly tls?: TlsSettings;
}

export interface ScpCounts {
  /** TCP connections accepted (whether or not an association followed). */
  connections: number;
  associations: number;
  rejectedAssociations: number;
  /** TLS connections refused before any association (bad or missing certificate, plain DICOM). */
  tlsRefused: number;
  stored: number;
  failed: number;
  bytes: number;
  /** Different instances received under a SOP Instance UID already stored (kept beside it). */
  duplicates: number;
}

export interface StoreFailure {
  readonly sopInstanceUid: string;
  readonly status: number;
  readonly reason: string;
  /** The write's errno code (e.g. ENOSPC) when the file system refused it. */
  readonly code?: string;
}

export const SCP_DEFAULTS = {
  maxAssociations: 8,
  maxPduLength: 65536,
  associationTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
} as const;

/** Filesystem errors that are about capacity, answered "out of resources" (the sender may retry). */
const CAPACITY_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'ENOMEM']);

export declare interface StorageScp {
  on(event: 'stored', listener: (instance: StoredInstance & { callingAet: string }) => void): this;
  on(event: 'failed', listener: (failure: StoreFailure) => void): this;
  on(event: 'connectionError', listener: (message: string) => void): this;
}

export class StorageScp extends EventEmitter {
  readonly counts: ScpCounts = { connections: 0, associations: 0, rejectedAssociations: 0, tlsRefused: 0, stored: 0, failed: 0, bytes: 0, duplicates: 0 };
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** With TLS: the TCP sockets under them, including those still in their handshake. */
  private readonly tcpSockets = new Set<Socket>();
  private readonly writes = new Set<Promise<unknown>>();
  private readonly writer: InstanceWriter;
  private readonly policy: AssociationPolicy;
  private readonly logger: Logger;
  private boundPort = 0;
  /** Accepted associations whose connection is still open. */
  private storing = 0;

  constructor(private readonly options: StorageScpOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.writer = new InstanceWriter(options.outDir, {
      fsync: options.fsync ?? true,
      dirSyncDelayMs: options.dirSyncDelayMs,
      // The directory names Study/Series UIDs: not logged (house rule 6).
      onSyncError: (err) => this.logger.error({ code: (err as NodeJS.ErrnoException).code }, 'directory fsync failed: files stored there may not survive a power loss'),
    });
    this.policy = {
      aeTitle: options.aeTitle,
      allowedCallingAets: options.allowedCallingAets ?? [],
      allowedAddresses: options.allowedAddresses ?? [],
      maxAssociations: options.maxAssociations ?? SCP_DEFAULTS.maxAssociations,
      acceptStorage: options.acceptStorage,
      acceptCommitment: options.onCommitmentReport !== undefined,
    };
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = this.createListener();
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${this.options.host ?? '*'}:${this.options.port}`;
        const why = err.code === 'EADDRINUSE' ? 'address already in use (another SCP running?)' : err.code === 'EACCES' ? 'permission denied' : err.message;
        reject(new PipelineError('E_NETWORK', `cannot listen on ${where} as ${this.options.aeTitle}: ${why}`, { cause: err }));
      });
      server.listen({ port: this.options.port, host: this.options.host }, () => resolve());
    });
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.options.port;
    server.on('error', (err) => this.logger.error({ err: err.message }, 'storage SCP server error'));
  }

  /**
   * A TCP server, or a TLS server that hands accept() only connections whose client certificate
   * chain leads to our CA bundle. The chain is checked here rather than by Node (which would drop
   * the connection without saying why), before a single byte of DICOM is read.
   */
  private createListener(): Server {
    const { tls } = this.options;
    if (!tls) return createServer({ noDelay: true }, (socket) => this.accept(socket));
    if (!tls.hasCertificate) throw new PipelineError('E_CONFIG', `our TLS SCP ${this.options.aeTitle} needs a certificate and key (tls.cert and tls.key, or --tls-cert and --tls-key)`);
    const addresses = new WeakMap<Socket, string>();
    const server = createTlsServer(tlsServerOptions(tls, this.options.associationTimeoutMs ?? SCP_DEFAULTS.associationTimeoutMs), (socket) => {
      const refusal = clientCertificateProblem(socket);
      if (!refusal) {
        this.accept(socket);
        return;
      }
      this.refuseTls(refusal, socket.remoteAddress);
      socket.destroy();
    });
    server.on('connection', (socket: Socket) => {
      // TCP connections, handshaken or not, are ours to end at stop() (this.sockets counts associations).
      addresses.set(socket, normalizeAddress(socket.remoteAddress));
      this.tcpSockets.add(socket);
      socket.once('close', () => this.tcpSockets.delete(socket));
    });
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      // The TCP socket under it (Node's _parent) still knows the peer's address once it has closed.
      const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
      this.refuseTls(describeServerTlsError(err), (raw && addresses.get(raw)) ?? socket.remoteAddress, err.code);
    });
    return server;
  }

  private refuseTls(why: string, address: string | undefined, code?: string): void {
    this.counts.connections++;
    this.counts.tlsRefused++;
    const line = `TLS connection from ${normalizeAddress(address) || 'a peer'} ${why}`;
    this.logger.warn({ code }, line);
    this.emit('connectionError', line);
  }

  /** Stops accepting, lets stores already being written finish, makes every stored file durable, then closes every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // close() only calls back once every connection is gone: start it, then end the connections.
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.allSettled([...this.writes]);
    await this.writer.flush().catch(() => undefined); // failures are logged by onSyncError
    this.writer.discardSpares();
    for (const socket of [...this.sockets, ...this.tcpSockets]) socket.destroy();
    await closed;
  }

  /** Makes every file stored so far durable under its final name (batched directory fsyncs). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  private accept(socket: Socket): void {
    this.counts.connections++;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    serveScpConnection(
      socket,
      {
        associate: (info) => {
          const decision = decideAssociation(info, this.policy, this.sockets.size);
          if (decision.accept) {
            this.counts.associations++;
            this.storing++;
            socket.once('close', () => this.storing--);
          } else {
            this.counts.rejectedAssociations++;
            this.logger.warn({ callingAet: info.callingAet, address: info.remoteAddress, cause: decision.cause }, 'association rejected');
          }
          return decision;
        },
        store: (instance) => this.store(instance),
        eventReport: this.options.onCommitmentReport,
        // Before answering A-RELEASE-RQ: every file of the association durable under its final name,
        // and no temp file created ahead left behind.
        released: () => this.writer.flush().catch(() => undefined).then(() => this.writer.discardSpares()),
        closed: ({ error, remoteAddress }) => {
          this.writer.discardSpares();
          if (error) {
            this.logger.warn({ error, address: remoteAddress }, 'SCP connection ended abnormally');
            this.emit('connectionError', error);
          }
        },
      },
      {
        maxPduLength: this.options.maxPduLength ?? SCP_DEFAULTS.maxPduLength,
        associationTimeoutMs: this.options.associationTimeoutMs ?? SCP_DEFAULTS.associationTimeoutMs,
        idleTimeoutMs: this.options.idleTimeoutMs ?? SCP_DEFAULTS.idleTimeoutMs,
      },
    );
  }

  private store(incoming: IncomingStore): StoreSink {
    // One association storing: we are idle while the peer prepares its next instance, so its temp
    // file is created meanwhile (see TempFiles). With several, we are not, and it slowed them down.
    const receiving = this.writer.begin(incoming, this.storing === 1);
    return {
      write: (fragment) => receiving.write(fragment),
      abort: () => receiving.abort(),
      end: () => {
        const write = receiving.end().then(
          (stored): StoreReply => {
            this.counts.stored++;
            this.counts.bytes += stored.bytes;
            if (stored.duplicate && !stored.identical) {
              this.counts.duplicates++;
              // Names no UID (house rule 6): where it is kept is in the file system.
              this.logger.warn({ callingAet: incoming.callingAet }, 'a different instance with an already stored SOP Instance UID: kept beside it as <SOP>.dup-<n>.dcm');
            }
            this.emit('stored', { ...stored, callingAet: incoming.callingAet });
            return { status: STATUS_SUCCESS };
          },
          (err: unknown): StoreReply => {
            const reply = failureReply(err);
            this.counts.failed++;
            this.logger.error({ status: formatStatus(reply.status), cause: reply.errorComment, code: (err as NodeJS.ErrnoException).code }, 'C-STORE not stored');
            this.emit('failed', { sopInstanceUid: incoming.sopInstanceUid, status: reply.status, reason: reply.errorComment ?? '', code: (err as NodeJS.ErrnoException).code });
            return reply;
          },
        );
        this.writes.add(write);
        void write.finally(() => this.writes.delete(write));
        return write;
      },
    };
  }
}

function failureReply(err: unknown): StoreReply {
  if (err instanceof RejectedDataset) return { status: err.status, errorComment: err.message };
  const code = (err as NodeJS.ErrnoException).code;
  if (code && CAPACITY_ERRORS.has(code)) return { status: STATUS_OUT_OF_RESOURCES, errorComment: `storage full or exhausted (${code})` };
  return { status: STATUS_PROCESSING_FAILURE, errorComment: `cannot write the file (${code ?? 'error'})` };
}
