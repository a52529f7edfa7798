/**
 * Network settings of our SCU (and the SCP it starts for pulls), with defaults fit for slow hospital
 * PACS. The config file (src/config) will provide these; the CLI can override a few.
 */
export interface NetworkOptions {
  /** TCP connect. */
  readonly connectTimeoutMs: number;
  /** From connected to A-ASSOCIATE-AC/RJ, and for A-RELEASE. */
  readonly associationTimeoutMs: number;
  /** Silence allowed while waiting for a DIMSE response; every pending C-MOVE/C-FIND response restarts it. */
  readonly dimseTimeoutMs: number;
  /** Largest PDU we accept (announced in our A-ASSOCIATE). */
  readonly maxPduLength: number;
  /** Parallel associations of a push; studies a pull moves at once (each its own C-MOVE association). */
  readonly associations: number;
  /** C-STORE requests per association before it is released and a new one opened. */
  readonly requestsPerAssociation: number;
  /** Extra attempts for transient failures (connection lost, out of resources, congestion). */
  readonly retries: number;
  /** First retry delay; doubled at each further attempt. */
  readonly retryBackoffMs: number;
  /** How long a push waits for the archive's storage commitment reports before calling the rest unconfirmed. */
  readonly commitmentTimeoutMs: number;
}

export const DEFAULT_NETWORK_OPTIONS: NetworkOptions = Object.freeze({
  connectTimeoutMs: 10_000,
  associationTimeoutMs: 30_000,
  dimseTimeoutMs: 300_000,
  maxPduLength: 65_536,
  associations: 2,
  requestsPerAssociation: 1_000,
  retries: 3,
  retryBackoffMs: 1_000,
  commitmentTimeoutMs: 600_000,
});

export function networkOptions(overrides: Partial<NetworkOptions> = {}): NetworkOptions {
  const merged = { ...DEFAULT_NETWORK_OPTIONS, ...definedOnly(overrides) };
  return Object.freeze(merged);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function timeoutsOf(options: NetworkOptions): { connectMs: number; associationMs: number; dimseMs: number } {
  return { connectMs: options.connectTimeoutMs, associationMs: options.associationTimeoutMs, dimseMs: options.dimseTimeoutMs };
}
