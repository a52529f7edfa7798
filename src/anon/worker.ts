import { parentPort, workerData } from 'node:worker_threads';
import { anonymizeBatch, type ClaimResult } from './anonymize-file';
import { createEnvironment } from './environment';
import type { AnonymizeSettings } from './settings';
import type { FromWorker, ToWorker } from './pool-messages';

const port = parentPort!;
const pendingClaims = new Map<number, (results: readonly ClaimResult[]) => void>();
let nextClaim = 0;

function send(message: FromWorker): void {
  port.postMessage(message);
}

async function open(): Promise<Awaited<ReturnType<typeof createEnvironment>> | undefined> {
  try {
    return await createEnvironment(workerData as AnonymizeSettings, (claims) =>
      new Promise<ClaimResult[]>((resolve) => {
        const id = nextClaim++;
        pendingClaims.set(id, (results) => resolve([...results]));
        send({ type: 'claim', id, claims });
      }));
  } catch (err) {
    // Errors thrown across the thread boundary lose their code: report it as a message instead.
    send({ type: 'fatal', message: (err as Error).message, code: (err as { code?: string }).code });
    return undefined;
  }
}

// Batches that arrive while the identity store connects wait for it.
const ready = open();

port.on('message', (message: ToWorker) => {
  if (message.type === 'claimed') {
    pendingClaims.get(message.id)?.(message.results);
    pendingClaims.delete(message.id);
  } else if (message.type === 'batch') {
    ready.then((env) => env && anonymizeBatch(message.paths, env)).then(
      (outcomes) => outcomes && send({ type: 'done', id: message.id, outcomes }),
      (err: Error) => send({ type: 'fatal', message: err.message, code: (err as { code?: string }).code }),
    );
  } else if (message.type === 'close') {
    ready.then((env) => env?.close()).catch(() => undefined).finally(() => port.close());
  }
});
