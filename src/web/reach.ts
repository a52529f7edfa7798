/**
 * The run's check of a DICOMweb archive before anything moves (what C-ECHO is for a DIMSE peer):
 * a one-result QIDO-RS query proves the URL, the TLS trust and, unless it says 401, the credential.
 * An archive that answers 403/404 here may still take STOW-RS: only the push can tell.
 */
import { STATUS_CODES } from 'node:http';
import { PipelineError } from '../errors';
import type { WebClient } from './http-client';

export async function checkWebArchive(client: WebClient): Promise<string> {
  const started = Date.now();
  const res = await client.request({ method: 'GET', path: '/studies?limit=1', headers: { accept: 'application/dicom+json' } });
  const status = `HTTP ${res.status}${STATUS_CODES[res.status] ? ` ${STATUS_CODES[res.status]}` : ''}`;
  if (res.status === 401 && !(await client.credential.renew())) {
    throw new PipelineError('E_NETWORK', `${client.url} refused ${client.credential.description} (${status}): check the credential`);
  }
  return `DICOMweb ${client.url}: reachable (${status}, ${Date.now() - started} ms)`;
}
