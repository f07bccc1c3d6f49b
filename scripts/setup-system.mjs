#!/usr/bin/env node
// Installs the system programs the system tests and benchmarks use (curl, haproxy, nginx,
// wrk, python3, systemd-analyze) when they are missing and we may install (root + apt-get).
// Never fails the caller: tests that need a missing program say so and fail on their own.
import { spawnSync } from 'node:child_process';

const wanted = {
  curl: 'curl',
  haproxy: 'haproxy',
  nginx: 'nginx',
  wrk: 'wrk',
  python3: 'python3',
  'systemd-analyze': 'systemd',
};
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = Object.entries(wanted)
  .filter(([cmd]) => !has(cmd))
  .map(([, pkg]) => pkg);

if (missing.length === 0) process.exit(0);
if (process.getuid?.() !== 0 || !has('apt-get')) {
  console.log(`setup-system: missing ${missing.join(', ')}; install them to run every test`);
  process.exit(0);
}
console.log(`setup-system: installing ${missing.join(', ')} with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
  stdio: 'inherit',
  env,
});
if (r.status !== 0) console.log('setup-system: apt-get failed; some system tests will fail');
