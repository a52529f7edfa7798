import type { Command } from 'commander';
import * as anonymize from './anonymize';
import * as echo from './echo';
import * as find from './find';
import * as listen from './listen';
import * as pull from './pull';
import * as push from './push';

/** Each command lives in its own module under src/cli/commands and registers itself here. */
export function registerCommands(program: Command): void {
  anonymize.register(program);
  echo.register(program);
  find.register(program);
  listen.register(program);
  pull.register(program);
  push.register(program);
}
