import { isAbsolute, resolve } from 'node:path';
import { defineCommand } from 'citty';
import {
  type Address,
  agentSettings,
  formatAddress,
  loadConfig,
  type SettingsDef,
  serverSettings,
} from '../config/index.ts';
import { runtime } from '../runtime/index.ts';
import { commandLine, renderUnit } from '../systemd/index.ts';
import { CliError } from './errors.ts';
import { readConfigFile } from './load.ts';

// Flags of `tether systemd` itself; every other argument goes into ExecStart as given.
const OWN_FLAGS = new Set(['exec-path', 'user']);

interface Parsed {
  /** Arguments for ExecStart, without ours. */
  readonly rest: string[];
  readonly own: Record<string, string>;
  /** Setting flags by key (last one wins, as on the command line). */
  readonly flags: Record<string, string>;
  readonly positionals: string[];
}

/** Splits `--key value` / `--key=value` pairs; every setting takes a value. */
function parse(rawArgs: readonly string[], settings: SettingsDef): Parsed {
  const parsed: Parsed = { rest: [], own: {}, flags: {}, positionals: [] };
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (!arg.startsWith('--')) {
      parsed.rest.push(arg);
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    const own = OWN_FLAGS.has(name);
    if (!own && name !== 'config.path' && !(name in settings)) {
      throw new CliError(`Unknown flag --${name}; see --help for the flags this command takes`, 2);
    }
    if (value === undefined) {
      value = rawArgs[++i];
      if (value === undefined) throw new CliError(`Flag --${name} needs a value`, 2);
    }
    if (own) {
      parsed.own[name] = value;
      continue;
    }
    parsed.rest.push(`--${name}`, value);
    parsed.flags[name] = value;
  }
  return parsed;
}

/** How this very tether was started: the compiled binary, or runtime + entry script. */
function selfCommand(): string[] {
  const script = process.argv[1];
  // A `bun build --compile` binary reports its embedded entry under /$bunfs.
  if (!script || script.startsWith('/$bunfs/') || script.startsWith('B:/~BUN/')) {
    return [process.execPath];
  }
  const entry = resolve(script);
  return runtime.name === 'deno'
    ? [process.execPath, 'run', '-A', entry]
    : [process.execPath, entry];
}

function execCommand(own: Record<string, string>): string[] {
  const path = own['exec-path'];
  if (path === undefined) return selfCommand();
  if (path === '') throw new CliError('--exec-path needs the path of the tether binary', 2);
  return [isAbsolute(path) ? path : resolve(path)];
}

function loadFor<S extends SettingsDef>(settings: S, parsed: Parsed) {
  const file = readConfigFile(parsed.flags['config.path']);
  // The unit's environment is not this shell's: read flags and the file only.
  return loadConfig(settings, {
    flags: parsed.flags,
    env: {},
    ...(file ? { file } : {}),
    extraFileKeys: ['listeners'],
  }).config;
}

/** Where `tether drain` (run on the same host by ExecStop) reaches an admin bind address. */
function localAdminUrl(addr: Address): string {
  const host =
    addr.host === '' || addr.host === '0.0.0.0'
      ? '127.0.0.1'
      : addr.host === '::'
        ? '::1'
        : addr.host;
  return `http://${formatAddress({ host, port: addr.port })}`;
}

const privileged = (addrs: readonly (Address | null)[]) =>
  addrs.some((a) => a !== null && a.port > 0 && a.port < 1024);

const commonArgs = {
  'exec-path': {
    type: 'string',
    description: 'Absolute path of the tether binary for ExecStart (default: this one)',
  },
  user: { type: 'string', description: 'Run as this existing user (default: DynamicUser=yes)' },
} as const;

const server = defineCommand({
  meta: {
    name: 'server',
    description: 'Print a unit for `tether server` with the given flags',
  },
  args: commonArgs,
  run({ rawArgs }) {
    const parsed = parse(rawArgs, serverSettings);
    if (parsed.positionals.length > 0) {
      throw new CliError(
        `Unexpected argument ${parsed.positionals[0]}: tether server takes flags only`,
        2,
      );
    }
    const config = loadFor(serverSettings, parsed);
    const admin = config['admin.bind-addr'];
    const unit = renderUnit({
      role: 'server',
      exec: execCommand(parsed.own),
      args: ['server', ...parsed.rest],
      adminUrl: localAdminUrl(admin),
      drainMs: config['drain.quiet-period-max'] + config['drain.grace-period'],
      user: parsed.own.user,
      privilegedPort: privileged([config['proxy.bind-addr'], config['upstream.bind-addr'], admin]),
      generatedBy: commandLine(['tether', 'systemd', 'server', ...rawArgs]),
    });
    process.stdout.write(unit);
  },
});

const agent = defineCommand({
  meta: {
    name: 'agent',
    description: 'Print a unit for `tether agent http|tcp|start …` with the given arguments',
  },
  args: commonArgs,
  run({ rawArgs }) {
    const parsed = parse(rawArgs, agentSettings);
    const [kind, ...positionals] = parsed.positionals;
    if (kind === 'http' || kind === 'tcp') {
      if (positionals.length !== 2) {
        throw new CliError(
          `tether agent ${kind} takes <endpoint> <addr>, got ${positionals.length} arguments`,
          2,
        );
      }
    } else if (kind === 'start') {
      if (!parsed.flags['config.path']) {
        throw new CliError('tether agent start needs --config.path with a listeners: list', 2);
      }
    } else {
      throw new CliError('Expected tether systemd agent http|tcp|start …', 2);
    }
    const config = loadFor(agentSettings, parsed);
    const admin = config['admin.bind-addr'];
    const unit = renderUnit({
      role: 'agent',
      exec: execCommand(parsed.own),
      args: ['agent', ...parsed.rest],
      adminUrl: admin ? localAdminUrl(admin) : undefined,
      drainMs: config['drain.grace-period'],
      user: parsed.own.user,
      privilegedPort: privileged([admin]),
      generatedBy: commandLine(['tether', 'systemd', 'agent', ...rawArgs]),
    });
    process.stdout.write(unit);
  },
});

export default defineCommand({
  meta: {
    name: 'systemd',
    description:
      'Print a systemd unit for tether server or agent (pipe it into /etc/systemd/system/)',
  },
  subCommands: { server, agent },
});
