/**
 * Loads dcmjs-dimse 0.3.3 once, silenced, and exposes the few internals our DIMSE layer builds on.
 * Only src/dicom/dimse*.ts import this module (house rule 1).
 *
 * What we use dcmjs-dimse for: the association PDUs (A-ASSOCIATE-RQ/AC/RJ, A-RELEASE, A-ABORT),
 * its Association/PresentationContext model, and the SCP's association and idle timers. What we do
 * not: its P-DATA path (PDU accumulation, PDV assembly, command parsing through dcmjs, dataset
 * handling), which cost more per C-STORE than our whole store path bar the fsync and re-parsed every
 * dataset-less command since the start of the association (the quadratic trap: docs/networking.md).
 * routeIncomingPdus() hands every P-DATA-TF PDU to our layer (dimse-pdata.ts, dimse-command.ts);
 * dcmjs-dimse never sees one, so none of its DIMSE state is ever used.
 *
 * Also handled here: it logs INFO to stdout through loglevel, and dcmjs logs through its own
 * loglevel: both silenced. The version is pinned exactly in package.json because we rely on
 * internals (`socket`, `_processPdu`, `lastPduTime`, `connected`, `connectedTime`).
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import * as dimse from 'dcmjs-dimse';
import { PDU_TYPE, PduReader } from './dimse-pdata';

// dcmjs ships no typings; we only need its logger.
const dcmjs = require('dcmjs') as { log: { setLevel(level: string): void } }; // eslint-disable-line @typescript-eslint/no-require-imports

dimse.log.setLevel('silent');
dcmjs.log.setLevel('silent');

export const { Dataset, Scp } = dimse;
export const { Association } = dimse.association;

export type DimseAssociation = InstanceType<typeof dimse.association.Association>;

/** The internals of dcmjs-dimse's Network that we touch; none of them is in its typings. */
export interface NetworkInternals extends EventEmitter {
  socket: Socket;
  connected: boolean;
  connectedTime?: number;
  lastPduTime?: number;
  _processPdu(pdu: Buffer): Promise<void>;
}

/** dcmjs-dimse's Network class is not exported; Scp extends it directly. */
export const NetworkBase = Object.getPrototypeOf(dimse.Scp) as new (
  socket: Socket,
  opts?: Record<string, unknown>,
) => InstanceType<typeof dimse.Scp>;

/** dcmjs-dimse's own timers are disabled by giving them a day; ours are exact (see dimse-association/dimse-scp). */
export const DISABLED_TIMEOUT_MS = 24 * 3600 * 1000;

/**
 * Takes over the socket input of a dcmjs-dimse Network (right after constructing it): P-DATA-TF PDUs
 * go to `onPData`, every other PDU to dcmjs-dimse's own handler, in arrival order. A malformed PDU
 * stream, or an exception from `onPData`, is reported as the Network's 'networkError' event.
 */
export function routeIncomingPdus(network: InstanceType<typeof NetworkBase>, onPData: (pdu: Buffer) => void): void {
  const internals = network as unknown as NetworkInternals;
  const socket = internals.socket;
  socket.removeAllListeners('data'); // dcmjs-dimse's accumulator: the only 'data' listener
  const reader = new PduReader((pdu) => {
    internals.lastPduTime = Date.now(); // drives dcmjs-dimse's idle timer (SCP side)
    if (pdu[0] === PDU_TYPE.P_DATA_TF) onPData(pdu);
    else void internals._processPdu(pdu);
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch (err) {
      reader.stop();
      internals.emit('networkError', err instanceof Error ? err : new Error(String(err)));
    }
  });
  socket.once('close', () => reader.stop());
}
