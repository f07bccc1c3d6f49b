/** An error the CLI reports as one line and turns into an exit code (2 = usage or config). */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** Subcommands whose issue has not landed yet say so instead of pretending to work. */
export function notBuilt(command: string, what: string): never {
  throw new CliError(`tether ${command} is not built yet: ${what}`, 2);
}
