/**
 * Progress bars on a real terminal (tmux): two bars at once (the pull and the anonymizer overlap),
 * one under the other; a line (or a log record on stderr) printed meanwhile goes above them and stays; bars are cleared when
 * they stop, leaving only the lines. (Regression: the pull's summary vanished and "== protocol" was
 * printed onto the end of the anonymize bar.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/anon-env';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const { dir, cleanup } = tempDir('dp-tty-');
const socket = `dp-tty-${process.pid}`;
const tmux = (...args: string[]): string => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).stdout ?? '';

after(() => {
  if (hasTmux) tmux('kill-server');
  cleanup();
});

/** The pane's non-empty lines, trailing spaces removed. */
function pane(): string[] {
  return tmux('capture-pane', '-p', '-t', 'bars').split('\n').map((l) => l.trimEnd()).filter(Boolean);
}

async function waitFor(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), `timed out waiting for ${what}: ${JSON.stringify(pane())}`);
}

test('two bars on a terminal, lines printed above them, nothing left of them at the end', { skip: hasTmux ? false : 'tmux not installed' }, async () => {
  const progress = join(__dirname, '..', '..', 'src', 'util', 'progress.js');
  const logger = join(__dirname, '..', '..', 'src', 'util', 'logger.js');
  const go = join(dir, 'go');
  const script = join(dir, 'bars.js');
  // Steps advance when the test has looked at the screen (it creates `go` files): no timing involved.
  writeFileSync(script, `
    const { existsSync } = require('node:fs');
    const { createProgress, printLine } = require(${JSON.stringify(progress)});
    const log = require(${JSON.stringify(logger)}).createLogger({ level: 'warn' });
    const when = (n, f) => { const t = setInterval(() => { if (existsSync(${JSON.stringify(go)} + n)) { clearInterval(t); f(); } }, 20); };
    printLine('== pull + anonymize');
    const pull = createProgress('pull', 'instances');
    const anon = createProgress('anonymize');
    pull.update(10, 100, 'study 1/2');
    anon.update(5, 100);
    when(1, () => {
      printLine('   pull: 100 files, 2 studies received');
      log.warn('a warning from the SCP');
      pull.stop();
      anon.update(60, 100);
      when(2, () => {
        anon.stop();
        printLine('== protocol');
        printLine('END');
      });
    });
  `);
  // CI (set by our test helpers' environment) would turn the bars off.
  tmux('new-session', '-d', '-s', 'bars', '-x', '120', '-y', '20', `env -u CI ${process.execPath} ${script}; sleep 60`);

  await waitFor('two bars', () => pane().length === 3 && pane()[2].startsWith('anonymize'));
  const both = pane();
  assert.equal(both[0], '== pull + anonymize');
  assert.match(both[1], /^pull study 1\/2 .* 10\/100 instances \| \d+\/s \| ETA /);
  assert.match(both[2], /^anonymize .* 5\/100 files/);

  writeFileSync(go + 1, '');
  await waitFor('the pull summary and a log line above the remaining bar', () => pane().some((l) => /60\/100 files/.test(l)));
  const one = pane();
  assert.deepEqual(one.slice(0, 2), ['== pull + anonymize', '   pull: 100 files, 2 studies received']);
  assert.match(one[2], /^\{"level":40,.*"msg":"a warning from the SCP"\}$/);
  assert.equal(one.length, 4);
  assert.match(one[3], /^anonymize .* 60\/100 files/);

  writeFileSync(go + 2, '');
  await waitFor('the end', () => pane().includes('END'));
  const end = pane();
  assert.deepEqual([...end.slice(0, 2), ...end.slice(3)], ['== pull + anonymize', '   pull: 100 files, 2 studies received', '== protocol', 'END']);
  assert.match(end[2], /"msg":"a warning from the SCP"/);
});
