import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/anon-env';
import { runCliAsync } from '../helpers/cli';
import { startWebOrthanc, WEB_USER, type WebOrthanc } from '../helpers/orthanc-web';
import { freePort } from '../helpers/ports';
import { fakeStudy } from '../helpers/studies';

/**
 * Faults injected between us and a real Orthanc: the first STOW-RS requests are answered 503 or 429
 * (with Retry-After) or have their connection cut, after which requests pass through unchanged.
 */
class FaultyProxy {
  posts = 0;
  private constructor(private readonly server: http.Server, readonly port: number) {}

  static async start(target: number, faults: ReadonlyArray<'503' | '429' | 'reset'>): Promise<FaultyProxy> {
    const port = await freePort();
    let proxy: FaultyProxy;
    const server = http.createServer((req, res) => {
      const fault = req.method === 'POST' ? faults[proxy.posts++] : undefined;
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault) {
        req.resume();
        req.on('end', () => res.writeHead(Number(fault), { 'retry-after': '1', 'content-length': 0 }).end());
        return;
      }
      const upstream = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    proxy = new FaultyProxy(server, port);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  url(): string {
    return `http://127.0.0.1:${this.port}/dicom-web`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const { dir, cleanup } = tempDir('dp-web-retry-');
const files = join(dir, 'study');
let web: WebOrthanc;

before(async () => {
  web = await startWebOrthanc({ aeTitle: 'WEBRETRY' });
  mkdirSync(files);
  fakeStudy({ patientId: 'ANON2', patientName: 'ANON^TWO', studyUid: '1.2.826.0.1.3680043.10.99.20', instances: 4 }).forEach((b, i) => writeFileSync(join(files, `${i}.dcm`), b));
});

after(async () => {
  await web?.stop();
  cleanup();
});

function push(url: string, retries: number): ReturnType<typeof runCliAsync> {
  return runCliAsync(['push', url, files, '--user', WEB_USER, '--password-file', web.passwordFile, '--files-per-request', '2', '--associations', '1', '--retries', String(retries)]);
}

test('503, 429 (Retry-After) and a cut connection are retried: everything stored and confirmed', async () => {
  await web.orthanc.clear();
  const proxy = await FaultyProxy.start(web.orthanc.httpPort, ['503', '429', 'reset']);
  try {
    const res = await push(proxy.url(), 3);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /^confirmed: 4 \(QIDO-RS\)$/m);
    assert.equal(proxy.posts, 2 + 3, 'two requests, three of their attempts refused');
    assert.match(res.stderr, /retrying a STOW-RS request/);
    assert.equal((await web.orthanc.instanceIds()).length, 4);
  } finally {
    await proxy.stop();
  }
});

test('an archive that stays unavailable: the files fail naming the status and the attempts', async () => {
  await web.orthanc.clear();
  const proxy = await FaultyProxy.start(web.orthanc.httpPort, ['503', '503', '503']);
  try {
    const res = await push(proxy.url(), 1);
    assert.equal(res.code, 3, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /^stored: 2$/m);
    assert.match(res.stdout, /^failed: 2$/m);
    assert.match(res.stdout, /^\s+\S+: HTTP 503 Service Unavailable from http:\/\/127\.0\.0\.1:\d+\/dicom-web \(after 2 attempts\)$/m);
  } finally {
    await proxy.stop();
  }
});
