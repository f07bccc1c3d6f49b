#!/usr/bin/env bun
// The binary's entry and its only exit point: errors become exit codes in src/cli/.
// citty reads NO_COLOR once at import, so decide about colours before loading it.
if (!process.stdout.isTTY && process.env.NO_COLOR === undefined) process.env.NO_COLOR = '1';
const { runCli } = await import('./cli/index.ts');
const code = await runCli(process.argv.slice(2));
// Exit explicitly: idle keep-alive sockets must not hold a drained process open.
process.exit(code);

export {};
