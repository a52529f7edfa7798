/**
 * Confirmation through QIDO-RS: GET {url}/studies/{study}/instances lists what the archive holds,
 * read page by page (limit/offset) so a large study is never one huge answer. Given the SOP Instance
 * UIDs of one STOW-RS batch, only those are asked for (PS3.18 UID list matching, a few dozen per
 * query so that the URL stays short): an archive whose QIDO-RS reads every instance it lists (the
 * Orthanc DICOMweb plugin 1.7 reads each file) then reads each one once, right after storing it.
 */
import type { WebClient, WebResponse } from './http-client';

export type StudyListing =
  | { readonly kind: 'listed'; readonly sopInstanceUids: ReadonlySet<string> }
  /** The archive does not offer QIDO-RS to us; `why` says what it answered. */
  | { readonly kind: 'unavailable'; readonly why: string };

const PAGE = 1000;
const SOP_INSTANCE_UID = '00080018';

/** Answers that mean "no QIDO-RS here for you", not "the study is missing". */
const NOT_OFFERED = new Set([401, 403, 404, 405, 406, 501]);

/** Characters of SOP Instance UIDs per query: with the rest, the URL stays well under the 8 KiB many servers accept. */
const UID_LIST_CHARS = 3000;

export async function listStudyInstances(client: WebClient, studyUid: string, sopInstanceUids?: readonly string[]): Promise<StudyListing> {
  if (!sopInstanceUids) return listPages(client, studyUid, '');
  const uids = new Set<string>();
  for (const chunk of uidChunks(sopInstanceUids)) {
    const listing = await listPages(client, studyUid, `&${SOP_INSTANCE_UID}=${chunk.map(encodeURIComponent).join(',')}`);
    if (listing.kind === 'unavailable') return listing;
    for (const uid of listing.sopInstanceUids) uids.add(uid);
  }
  return { kind: 'listed', sopInstanceUids: uids };
}

export function uidChunks(uids: readonly string[]): string[][] {
  const chunks: string[][] = [];
  let chars = Infinity;
  for (const uid of uids) {
    if (chars + uid.length + 1 > UID_LIST_CHARS) {
      chunks.push([]);
      chars = 0;
    }
    chunks[chunks.length - 1].push(uid);
    chars += uid.length + 1;
  }
  return chunks;
}

async function listPages(client: WebClient, studyUid: string, filter: string): Promise<StudyListing> {
  const uids = new Set<string>();
  for (let offset = 0; ; offset += PAGE) {
    const path = `/studies/${encodeURIComponent(studyUid)}/instances?includefield=${SOP_INSTANCE_UID}${filter}&limit=${PAGE}&offset=${offset}`;
    const res = await client.request({ method: 'GET', path, headers: { accept: 'application/dicom+json' } });
    if (res.status === 204) break;
    if (res.status !== 200) {
      if (NOT_OFFERED.has(res.status)) return { kind: 'unavailable', why: `QIDO-RS answered HTTP ${res.status}` };
      throw new Error(`QIDO-RS at ${client.url} answered HTTP ${res.status}`);
    }
    const page = parseListing(res);
    if (!page) return { kind: 'unavailable', why: 'QIDO-RS answer is not DICOM JSON' };
    for (const uid of page) uids.add(uid);
    // A server that ignores limit returns everything at once: a short page is the last one.
    if (page.length < PAGE) break;
  }
  return { kind: 'listed', sopInstanceUids: uids };
}

function parseListing(res: WebResponse): string[] | undefined {
  if (res.body.length === 0) return [];
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(json)) return undefined;
  const out: string[] = [];
  for (const ds of json as Array<Record<string, { Value?: unknown[] } | undefined>>) {
    const uid = ds?.[SOP_INSTANCE_UID]?.Value?.[0];
    if (typeof uid === 'string') out.push(uid.trim());
  }
  return out;
}
