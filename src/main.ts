#!/usr/bin/env bun
// The binary's entry and its only exit point: errors become exit codes in src/cli/.
// citty reads NO_COLOR once at import, so decide about colours before loading it.
if (!process.stdout.isTTY && process.env.NO_COLOR === undefined) process.env.NO_COLOR = '1';
const { runCli } = await import('./cli/index.ts');
process.exitCode = await runCli(process.argv.slice(2));

export {};
