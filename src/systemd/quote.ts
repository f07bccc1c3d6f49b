// Characters that need no quoting on a systemd command line (systemd.service(5) "Command
// lines"). `%` and `$` are still special there, so they are escaped even in bare words.
const BARE = /^[A-Za-z0-9_@+=:,./-]+$/;

/**
 * One argument as systemd reads it in `ExecStart=`: specifiers (`%`) become `%%`,
 * variable references (`$`) become `$$`, and anything with spaces, quotes, backslashes or
 * other specials is double-quoted with C-style escapes. A lone `;` would separate
 * commands, so it is escaped too.
 */
export function quoteArg(arg: string): string {
  const escaped = arg.replaceAll('%', '%%').replaceAll('$', '$$$$');
  if (arg === ';') return '\\;';
  if (arg.length > 0 && BARE.test(arg.replaceAll('%', '').replaceAll('$', ''))) return escaped;
  const inner = escaped
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replaceAll('\n', '\\n')
    .replaceAll('\t', '\\t');
  return `"${inner}"`;
}

/** A whole command line: each argument quoted and joined by spaces. */
export function commandLine(args: readonly string[]): string {
  return args.map(quoteArg).join(' ');
}
