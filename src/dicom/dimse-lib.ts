/**
 * Loads dcmjs-dimse 0.3.3 once, silenced, and exposes the few internals our DIMSE layer builds on.
 * Only src/dicom/dimse*.ts import this module (house rule 1).
 *
 * Traps handled here (DESIGN.md §3):
 * - it logs INFO to stdout through loglevel, and dcmjs logs through its own loglevel: both silenced;
 * - after a DIMSE message without a dataset its network layer keeps the command bytes, so every later
 *   command is parsed together with all earlier ones (quadratic per association). We subclass its
 *   Network/Scp and drop the buffer whenever a complete message is dispatched (see
 *   withCommandBufferReset); the version is pinned exactly in package.json because we rely on it.
 */
import * as dimse from 'dcmjs-dimse';

// dcmjs ships no typings; we only need its logger.
const dcmjs = require('dcmjs') as { log: { setLevel(level: string): void } }; // eslint-disable-line @typescript-eslint/no-require-imports

dimse.log.setLevel('silent');
dcmjs.log.setLevel('silent');

export const lib = dimse;
export const { Dataset, Scp } = dimse;
export const { Association, PresentationContext } = dimse.association;
export const { CEchoRequest, CFindRequest, CMoveRequest, CStoreRequest } = dimse.requests;
export const { CEchoResponse, CStoreResponse } = dimse.responses;

export type DimseDataset = InstanceType<typeof dimse.Dataset>;
export type DimseAssociation = InstanceType<typeof dimse.association.Association>;
export type DimseRequest = InstanceType<typeof dimse.requests.Request>;
export type DimseResponse = InstanceType<typeof dimse.responses.Response>;

/** The internals of dcmjs-dimse's Network that we touch; none of them is in its typings. */
export interface NetworkInternals {
  socket: import('node:net').Socket;
  association?: DimseAssociation;
  dimseStream?: unknown;
  pending: DimseRequest[];
  connected: boolean;
  connectedTime?: number;
  _performDimse(context: unknown, dimse: unknown): unknown;
}

type AnyClass = abstract new (...args: any[]) => object; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Fix for the quadratic command buffer (upstream 0.3.3, Network._processPDataTf): a message without a
 * dataset is dispatched through _performDimse while its command bytes stay in `dimseStream`, and the
 * next command is appended to them. Every path that completes a message goes through _performDimse,
 * and none reads `dimseStream` afterwards, so clearing it there is exact.
 */
export function withCommandBufferReset<T extends AnyClass>(Base: T): T {
  abstract class Fixed extends Base {
    _performDimse(context: unknown, message: unknown): unknown {
      const self = this as unknown as NetworkInternals;
      self.dimseStream = undefined;
      const original = (Base.prototype as unknown as NetworkInternals)._performDimse;
      return original.call(this, context, message);
    }
  }
  return Fixed;
}

/** dcmjs-dimse's Network class is not exported; Scp extends it directly. */
const NetworkBase = Object.getPrototypeOf(dimse.Scp) as new (
  socket: import('node:net').Socket,
  opts?: Record<string, unknown>,
) => InstanceType<typeof dimse.Scp>;

export const FixedNetwork = withCommandBufferReset(NetworkBase) as unknown as typeof NetworkBase;
export const FixedScp = withCommandBufferReset(dimse.Scp) as unknown as typeof dimse.Scp;

/** dcmjs-dimse's own timers are disabled by giving them a day; ours are exact (see dimse-association/dimse-scp). */
export const DISABLED_TIMEOUT_MS = 24 * 3600 * 1000;
