import { createServer } from 'node:net';

/**
 * Ports are drawn below Linux's ephemeral range (32768-60999 by default): a port the OS picked
 * with listen(0) and released could be reused by any outgoing connection (our SCU's, Orthanc's)
 * before the server meant for it binds, which made tests fail with EADDRINUSE now and then.
 */
const FIRST = 20000;
const LAST = 32000;
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    // Servers under test bind every interface (Orthanc, dcmtk, our SCP): probe the same way.
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** A TCP port free right now, never handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port found between ${FIRST} and ${LAST}`);
}

/** A port nothing listens on (for "connection refused" tests). */
export async function deadPort(): Promise<number> {
  return freePort();
}
