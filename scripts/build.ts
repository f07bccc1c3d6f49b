#!/usr/bin/env bun
// Builds the single executable with `bun build --compile`.
//
//   npm run build            dist/tether for this machine
//   npm run build -- --all   also linux-arm64, linux-x64-musl, darwin-arm64 (+ .sha256 each)
//
// Trap (notes/runtime.md §6): `--bytecode` without `--format=esm` prints "Failed to generate
// bytecode" yet exits 0 and leaves a broken binary. So this script passes --format=esm,
// treats any "error:" on the compiler's output as failure, and runs the native binary
// (`--version`) before calling the build good.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const bun = process.execPath;
const all = process.argv.includes('--all');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

const targets: { target?: string; out: string }[] = [{ out: 'tether' }];
if (all) {
  for (const t of ['linux-arm64', 'linux-x64-musl', 'darwin-arm64']) {
    targets.push({ target: `bun-${t}`, out: `tether-${t}` });
  }
}

mkdirSync(dist, { recursive: true });
for (const { target, out } of targets) {
  const outfile = join(dist, out);
  // Build beside the artifact and rename over it once it runs: a test run using
  // dist/tether concurrently never finds it missing or half-written.
  const tmpfile = `${outfile}.tmp-${process.pid}`;
  const args = ['build', '--compile', '--minify', '--bytecode', '--format=esm', '--sourcemap'];
  if (target) args.push(`--target=${target}`);
  args.push(join(root, 'src', 'main.ts'), '--outfile', tmpfile);
  const r = spawnSync(bun, args, { cwd: root, encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || /\berror:/i.test(output)) {
    rmSync(tmpfile, { force: true });
    fail(
      `Cannot build ${out}: bun build ${r.status === 0 ? 'reported an error' : `exited ${r.status}`}\n${output}`,
    );
  }
  if (!target) {
    const check = spawnSync(tmpfile, ['--version'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
    });
    if (check.status !== 0 || check.stdout.trim() !== pkg.version) {
      rmSync(tmpfile, { force: true });
      fail(
        `Cannot build ${out}: the binary does not run (exit ${check.status}): ${check.stderr.trim()}`,
      );
    }
  }
  renameSync(tmpfile, outfile);
  if (existsSync(`${tmpfile}.map`)) renameSync(`${tmpfile}.map`, `${outfile}.map`);
  const sum = createHash('sha256').update(readFileSync(outfile)).digest('hex');
  writeFileSync(`${outfile}.sha256`, `${sum}  ${out}\n`);
  console.log(`built dist/${out} (${target ?? 'native'}) sha256 ${sum.slice(0, 16)}…`);
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
