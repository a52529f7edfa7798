import { Command, CommanderError } from 'commander';
import { PipelineError } from '../errors';
import { EXIT_FAILED, EXIT_USAGE, exitCodeFor } from './exit-codes';
import { registerCommands } from './commands';

export function buildProgram(commandName?: string): Command {
  const program = new Command('dicom-pipeline')
    .description('Move reviewed studies from a staging PACS to a research PACS, de-identified (DICOM PS3.15).')
    .version(require('../../../package.json').version)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .showHelpAfterError('(run with --help for usage)');
  registerCommands(program, commandName);
  return program;
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException & { syscall: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** Runs the CLI and resolves to the process exit code; user errors print one line, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram(argv[2]);
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (isSystemError(err)) {
      // A file-system or network failure the user can act on: say which call, which path, which error.
      process.stderr.write(`dicom-pipeline: ${err.syscall} ${err.path ?? ''} failed: ${err.code} (${err.message.split(',')[0]})\n`.replace('  ', ' '));
      return EXIT_FAILED;
    }
    if (err instanceof PipelineError) {
      process.stderr.write(`dicom-pipeline: ${err.message}\n`);
      return exitCodeFor(err);
    }
    process.stderr.write(`dicom-pipeline: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return EXIT_FAILED;
  }
}
