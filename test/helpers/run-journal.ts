/** What the journal of a resumed run must show, whatever the research destination. */
import assert from 'node:assert/strict';
import { Journal } from '../../src/run/journal';
import { RunDir } from '../../src/run/run-dir';

/**
 * Every one of `count` instances confirmed (each confirmation saying `how`), and none sent again
 * after its first confirmation: its pushes all precede it.
 */
export function assertConfirmedOnce(dataDir: string, count: number, how: string): void {
  const journal = new Journal(RunDir.latest(dataDir)!.file('journal.jsonl')).read();
  const confirmed = journal.filter((e) => e.event === 'confirmed');
  assert.equal(new Set(confirmed.map((e) => e.instance)).size, count, 'every instance confirmed');
  assert.ok(confirmed.every((e) => e.detail === how), `confirmed by ${how}`);
  for (const c of confirmed) {
    const firstConfirmation = journal.findIndex((e) => e.event === 'confirmed' && e.instance === c.instance);
    const laterPush = journal.findIndex((e, i) => i > firstConfirmation && e.event === 'pushed' && e.instance === c.instance);
    assert.equal(laterPush, -1, 'a confirmed instance was sent again');
  }
}
