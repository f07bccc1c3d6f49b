import { type CommandDef, defineCommand, runCommand, showUsage } from 'citty';
import pkg from '../../package.json' with { type: 'json' };
import { ConfigError } from '../config/index.ts';
import { CliError } from './errors.ts';

// Subcommands load lazily so `tether --help` stays fast.
export const main = defineCommand({
  meta: {
    name: 'tether',
    version: pkg.version,
    description: 'Reverse tunnel proxy: reach services behind NAT over an outbound connection',
  },
  subCommands: {
    server: () => import('./server.ts').then((m) => m.default),
    agent: () => import('./agent.ts').then((m) => m.default),
    forward: () => import('./forward.ts').then((m) => m.default),
    drain: () => import('./drain.ts').then((m) => m.default),
    status: () => import('./status.ts').then((m) => m.default),
    systemd: () => import('./systemd.ts').then((m) => m.default),
  },
});

/** Runs the CLI and returns the process exit code; prints errors as one clear line. */
export async function runCli(rawArgs: string[], command: CommandDef = main): Promise<number> {
  try {
    if (rawArgs.length === 0) {
      await showUsage(command);
      return 2;
    }
    if (rawArgs.length === 1 && (rawArgs[0] === '--version' || rawArgs[0] === '-v')) {
      console.log(pkg.version);
      return 0;
    }
    if (rawArgs.includes('--help') || rawArgs.includes('-h')) {
      const [cmd, parent] = await resolve(command, rawArgs);
      await showUsage(cmd, parent);
      return 0;
    }
    await runCommand(command, { rawArgs });
    return 0;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  // Under systemd the journal reads a syslog priority from the line's start: 3 = error.
  const prefix = process.env.JOURNAL_STREAM ? '<3>' : '';
  if (error instanceof CliError) {
    console.error(`${prefix}tether: ${error.message}`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    console.error(`${prefix}tether: ${error.message}`);
    return 2;
  }
  // citty's own usage errors (unknown command, missing positional).
  if (error instanceof Error && error.name === 'CLIError') {
    console.error(`${prefix}tether: ${error.message}; see tether --help`);
    return 2;
  }
  console.error(`${prefix}tether: unexpected error:`, error);
  return 1;
}

/** The subcommand the arguments name, for `--help` at any depth. */
async function resolve(
  cmd: CommandDef,
  rawArgs: string[],
  parent?: CommandDef,
): Promise<[CommandDef, CommandDef?]> {
  const subs =
    typeof cmd.subCommands === 'function' ? await cmd.subCommands() : await cmd.subCommands;
  const name = rawArgs.find((a) => !a.startsWith('-'));
  if (subs && name && name in subs) {
    const entry = subs[name]!;
    const sub = (typeof entry === 'function' ? await entry() : await entry) as CommandDef;
    return resolve(sub, rawArgs.slice(rawArgs.indexOf(name) + 1), cmd);
  }
  return parent ? [cmd, parent] : [cmd];
}
