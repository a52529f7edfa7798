import type { Command } from 'commander';
import * as anonymize from './anonymize';

/** Each command lives in its own module under src/cli/commands and registers itself here. */
export function registerCommands(program: Command): void {
  anonymize.register(program);
}
