#!/usr/bin/env node
// Runs the whole suite on Bun and on Deno (the same node:test files), then prints one
// plain closing line `N passed, N failed` summed over both runtimes.
//
//   node scripts/test.mjs                 both runtimes, every file under test/
//   node scripts/test.mjs --runtime bun   one runtime
//   node scripts/test.mjs test/tunnel     only these paths
//
// Plain Node on purpose: it must run on a fresh machine that has only Node and npm.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const args = process.argv.slice(2);
let runtimes = ['bun', 'deno'];
const paths = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runtime') runtimes = [args[++i]];
  else paths.push(args[i]);
}
if (paths.length === 0) paths.push('test/');

if (!existsSync(bin('bun')) || !existsSync(bin('deno'))) {
  console.error('Cannot run tests: Bun or Deno is missing from node_modules; run `npm ci` first');
  process.exit(2);
}
spawnSync(process.execPath, [join(root, 'scripts', 'setup-system.mjs')], { stdio: 'inherit' });
// System tests run the shipped artifact, so build it first (about a second).
const build = spawnSync(bin('bun'), [join(root, 'scripts', 'build.ts')], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.log('\n0 passed, 1 failed (the build failed)');
  process.exit(1);
}

// One folder per run, so concurrent runs never read each other's reports.
mkdirSync(join(root, '.test-results'), { recursive: true });
const results = mkdtempSync(join(root, '.test-results', 'run-'));

const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
let passed = 0;
let failed = 0;
let skipped = 0;
let runnerFailed = false;

for (const rt of runtimes) {
  const report = join(results, `${rt}.xml`);
  const cmd =
    rt === 'bun'
      ? [
          bin('bun'),
          [
            'test',
            '--timeout=120000',
            '--reporter=junit',
            `--reporter-outfile=${report}`,
            ...paths,
          ],
        ]
      : [
          bin('deno'),
          // expose-gc: tests of what long-lived objects let go of (test/_harness/gc.ts).
          [
            'test',
            '-A',
            '--no-check',
            '--v8-flags=--expose-gc',
            `--junit-path=${report}`,
            ...paths,
          ],
        ];
  console.log(`\n=== ${rt}: ${cmd[0].split('/').pop()} ${cmd[1].join(' ')}\n`);
  const run = spawnSync(cmd[0], cmd[1], { cwd: root, env, stdio: 'inherit' });
  const counts = existsSync(report) ? countJunit(readFileSync(report, 'utf8')) : undefined;
  if (!counts || counts.total === 0) {
    console.log(`${rt}: the runner produced no results (exit ${run.status})`);
    runnerFailed = true;
    continue;
  }
  // A runner that exits non-zero with every case passing still failed (a crash, a leak).
  if (run.status !== 0 && counts.failed === 0) {
    console.log(`${rt}: runner exited ${run.status} although no test case failed`);
    runnerFailed = true;
  }
  console.log(`${rt}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  passed += counts.passed;
  failed += counts.failed;
  skipped += counts.skipped;
}

rmSync(results, { recursive: true, force: true });
if (runnerFailed) failed += 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);

/**
 * Counts leaf test cases in a JUnit report. Bun nests describes as suites; Deno lists a
 * describe as a case of its own and its steps as `parent > child` cases, so a case whose
 * name prefixes another's is a group, not a test (its failure counts only when no step
 * of it failed, e.g. a failing hook).
 */
function countJunit(xml) {
  const cases = [];
  const re = /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const name = (/\bname="([^"]*)"/.exec(m[1])?.[1] ?? '').replaceAll('&gt;', '>');
    const body = m[3] ?? '';
    cases.push({ name, failed: /<(failure|error)\b/.test(body), skipped: /<skipped\b/.test(body) });
  }
  const groups = new Set();
  for (const c of cases) {
    const parts = c.name.split(' > ');
    for (let i = 1; i < parts.length; i++) groups.add(parts.slice(0, i).join(' > '));
  }
  let total = 0;
  let failedCases = 0;
  let skippedCases = 0;
  for (const c of cases) {
    if (groups.has(c.name)) {
      const stepFailed = cases.some((s) => s.failed && s.name.startsWith(`${c.name} > `));
      if (c.failed && !stepFailed) {
        total++;
        failedCases++;
      }
      continue;
    }
    total++;
    if (c.failed) failedCases++;
    else if (c.skipped) skippedCases++;
  }
  return {
    total,
    failed: failedCases,
    skipped: skippedCases,
    passed: total - failedCases - skippedCases,
  };
}
