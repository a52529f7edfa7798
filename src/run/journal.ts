import { existsSync, readFileSync } from 'node:fs';
import { appendDurably } from '../util/append-durable';

/**
 * What happened to one instance, in order: received → anonymized | quarantined → verified → pushed →
 * confirmed (detail: how, "storage commitment", "C-FIND" or "QIDO-RS") | delivered (stored and counted as
 * delivered without a confirmation: research.confirm none, or auto with no way to confirm; detail: why).
 */
export type JournalEvent = 'received' | 'anonymized' | 'quarantined' | 'verified' | 'pushed' | 'confirmed' | 'delivered' | 'push-failed';

export interface JournalEntry {
  readonly at: string;
  readonly event: JournalEvent;
  /** Identified instances are named by a hash of their original SOP Instance UID, anonymized ones by their new UID. */
  readonly instance: string;
  readonly study?: string;
  readonly detail?: string;
}

/**
 * The per-instance journal (journal.jsonl): append-only, fsynced per batch, free of PHI. A resumed
 * push reads it to never send an instance that the research PACS already confirmed.
 */
export class Journal {
  constructor(readonly path: string) {}

  append(entries: readonly Omit<JournalEntry, 'at'>[]): void {
    if (entries.length === 0) return;
    const at = new Date().toISOString();
    const text = entries.map((e) => JSON.stringify({ at, ...e })).join('\n') + '\n';
    appendDurably(this.path, text);
  }

  /** Entries so far; a torn last line (a crash mid-write) is ignored. */
  read(): JournalEntry[] {
    if (!existsSync(this.path)) return [];
    const out: JournalEntry[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as JournalEntry);
      } catch {
        /* torn write at a crash: the event will be redone */
      }
    }
    return out;
  }

  /** Instances a push delivered (confirmed, or counted as delivered): a resumed push never sends them again. */
  deliveredInstances(): Set<string> {
    return new Set(this.read().filter((e) => e.event === 'confirmed' || e.event === 'delivered').map((e) => e.instance));
  }

  instancesWith(event: JournalEvent): Set<string> {
    return new Set(this.read().filter((e) => e.event === event).map((e) => e.instance));
  }
}
