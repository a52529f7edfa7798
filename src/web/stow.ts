/**
 * One STOW-RS request (POST {url}/studies) for a batch of files, with the archive's answer turned
 * into one outcome per file. 429/5xx and lost connections are retried with backoff (Retry-After
 * honoured); 401/403, a missing service and an unsupported media type end the push at once, since
 * every further request would get the same answer.
 */
import { STATUS_CODES } from 'node:http';
import { PipelineError } from '../errors';
import { WebTransportError, type WebClient, type WebResponse } from './http-client';
import { multipartBody } from './multipart';
import { isTransientStatus, retryDelayMs, sleep } from './retry';
import { describeFailureReason, parseStowAnswer } from './stow-answer';
import type { WebItem } from './files';

export type StowOutcome =
  | { readonly kind: 'stored'; readonly warning?: string }
  | { readonly kind: 'failed'; readonly reason: string }
  /** The batch was too large for the archive (413): send these again in smaller requests. */
  | { readonly kind: 'split' };

export interface StowRetryPolicy {
  readonly retries: number;
  readonly backoffMs: number;
  /** Called before each retry (for the log). */
  readonly onRetry?: (why: string, attempt: number) => void;
}

/** Ends the whole push: the archive refuses us, or is not a STOW-RS service. */
export class StowFatalError extends PipelineError {}

function httpStatus(status: number): string {
  return `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
}

function neverAnswered(client: WebClient, err: WebTransportError, attempts: number): StowFatalError {
  // TLS 1.3 servers refuse a missing client certificate after the handshake: the write fails instead.
  const hint = client.url.startsWith('https:') && err.failure === 'reset'
    ? '; an archive that requires a client certificate closes connections like this: give research.tls.cert and key (--tls-cert, --tls-key)'
    : '';
  return new StowFatalError('E_NETWORK', `${err.message}, ${attempts} attempt${attempts > 1 ? 's' : ''}, no answer from the archive${hint}`, { cause: err });
}

export async function stowBatch(client: WebClient, batch: readonly WebItem[], policy: StowRetryPolicy, firstContact: boolean): Promise<StowOutcome[]> {
  const body = multipartBody(batch);
  let renewedOnce = false;
  for (let attempt = 0; ; attempt++) {
    let res: WebResponse;
    try {
      res = await client.request({
        method: 'POST',
        path: '/studies',
        headers: { 'content-type': body.contentType, accept: 'application/dicom+json' },
        body,
      });
    } catch (err) {
      if (!(err instanceof WebTransportError)) throw err;
      // Before the archive ever answered, a refused connection or bad certificate is a setup problem.
      if (err.failure === 'tls' || (firstContact && err.failure === 'connect')) throw err;
      if (attempt >= policy.retries) {
        // An archive that never answered us at all is a setup problem, not a property of these files.
        if (firstContact) throw neverAnswered(client, err, attempt + 1);
        return batch.map(() => ({ kind: 'failed', reason: `${err.message} (after ${attempt + 1} attempts)` }));
      }
      policy.onRetry?.(err.message, attempt + 1);
      await sleep(retryDelayMs(attempt, policy.backoffMs));
      continue;
    }
    if (res.status === 401 || res.status === 403) {
      if (res.status === 401 && !renewedOnce && (await client.credential.renew())) {
        renewedOnce = true;
        attempt--;
        continue;
      }
      throw new StowFatalError('E_NETWORK', `${client.url} refused ${client.credential.description} (${httpStatus(res.status)}): check the credential; nothing was stored by this request`);
    }
    client.credential.accepted();
    if (res.status === 404 || res.status === 405) {
      throw new StowFatalError('E_NETWORK', `${client.url}/studies is not a STOW-RS service (${httpStatus(res.status)}): check research.url (the DICOMweb base URL, e.g. https://host/dicom-web)`);
    }
    if (res.status === 415) {
      throw new StowFatalError('E_NETWORK', `${client.url} does not accept multipart/related; type="application/dicom" (${httpStatus(res.status)})`);
    }
    if (res.status === 413) return batch.length > 1 ? batch.map(() => ({ kind: 'split' })) : [{ kind: 'failed', reason: `the archive refused a request this large (${httpStatus(413)}, ${batch[0].size} bytes)` }];
    const answer = parseStowAnswer(res.body);
    const transient = isTransientStatus(res.status);
    const outcomes = batch.map((item): StowOutcome | undefined => {
      const warning = answer?.stored.get(item.sopInstanceUid);
      if (warning !== undefined) return { kind: 'stored', warning: warning ? describeFailureReason(warning).replace('Failure Reason', 'Warning Reason') : undefined };
      const failure = answer?.failed.get(item.sopInstanceUid);
      if (failure !== undefined) return { kind: 'failed', reason: `refused by the archive: ${describeFailureReason(failure)} (${httpStatus(res.status)})` };
      if (transient) return undefined;
      if (res.status >= 200 && res.status < 300) return { kind: 'failed', reason: `the archive's answer does not list this instance (${httpStatus(res.status)})` };
      return { kind: 'failed', reason: `refused by the archive: ${httpStatus(res.status)}${answer ? ', not listed in its answer' : ''}` };
    });
    if (!outcomes.includes(undefined)) return outcomes as StowOutcome[];
    // 429 or 5xx: what the answer settled stays settled; the rest is sent again.
    if (attempt >= policy.retries) {
      return outcomes.map((o) => o ?? { kind: 'failed', reason: `${httpStatus(res.status)} from ${client.url} (after ${attempt + 1} attempts)` });
    }
    policy.onRetry?.(httpStatus(res.status), attempt + 1);
    await sleep(retryDelayMs(attempt, policy.backoffMs, res.headers));
    const pending = batch.filter((_, i) => outcomes[i] === undefined);
    if (pending.length < batch.length) {
      const rest = await stowBatch(client, pending, { ...policy, retries: policy.retries - attempt - 1 }, false);
      let j = 0;
      return outcomes.map((o) => o ?? rest[j++]);
    }
  }
}
