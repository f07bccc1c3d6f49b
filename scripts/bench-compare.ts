#!/usr/bin/env bun
/**
 * Compares two runs of `npm run bench` (their bench-results/*.json): tether's figures in
 * each, how they changed, and tether against nginx and direct within each run.
 *
 *   npm run bench:compare                          the two latest runs in bench-results/
 *   npm run bench:compare -- BEFORE.json AFTER.json
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compare, parseResults } from './bench/compare.ts';

const root = resolve(import.meta.dirname, '..');

function files(args: string[]): [string, string] {
  if (args.length === 2) return [args[0]!, args[1]!];
  if (args.length !== 0) {
    throw new RangeError('Usage: bench-compare [BEFORE.json AFTER.json] (two files, or none)');
  }
  const dir = join(root, 'bench-results');
  let names: string[];
  try {
    // Names start with the run's ISO time: sorting by name sorts by time.
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch (cause) {
    throw new Error(`Cannot list ${dir}: run \`npm run bench\` first`, { cause });
  }
  if (names.length < 2) {
    throw new Error(`Cannot compare: ${dir} holds ${names.length} run(s), two are needed`);
  }
  return [join(dir, names.at(-2)!), join(dir, names.at(-1)!)];
}

function load(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new Error(`Cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseResults(text, path);
}

try {
  const [before, after] = files(process.argv.slice(2));
  console.log(compare(load(before), load(after)));
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
