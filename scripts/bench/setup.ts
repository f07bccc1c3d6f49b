/** Tools the benchmark needs, machine facts, and the nginx configuration it runs. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Installs wrk and nginx with apt-get when missing (root only); throws when still missing. */
export function ensureTools(): void {
  const missing = ['wrk', 'nginx', 'curl'].filter((c) => !has(c) && !hasSbin(c));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`Cannot run the benchmark: install ${missing.join(', ')} (apt-get install)`);
  }
  console.log(`installing ${missing.join(', ')} with apt-get…`);
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) throw new Error(`Cannot install ${missing.join(', ')}`);
}

function hasSbin(cmd: string): boolean {
  return spawnSync('sh', ['-c', `test -x /usr/sbin/${cmd}`]).status === 0;
}

export function nginxPath(): string {
  return has('nginx') ? 'nginx' : '/usr/sbin/nginx';
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]?.trim() ?? '';
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  bun: string;
  deno: string;
  nginx: string;
  wrk: string;
}

export function machine(denoBin: string): Machine {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    bun: Bun.version,
    deno: firstLine(denoBin, ['--version'])
      .replace(/^deno /, '')
      .replace(/ .*/, ''),
    nginx: firstLine(nginxPath(), ['-v']).replace(/^nginx version: /, ''),
    wrk: firstLine('wrk', ['-v']).replace(/ \[.*/, ''),
  };
}

/**
 * One reverse-proxy hop with upstream keep-alive, as users would deploy it in front of a
 * service; WebSocket upgrades pass through. Otherwise nginx defaults (buffering, access log).
 */
export function writeNginxConf(dir: string, listen: number, upstream: number): string {
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes auto;
worker_rlimit_nofile 65536;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 16384; }
http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  upstream bench { server 127.0.0.1:${upstream}; keepalive 512; }
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }
  }
}
`;
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, conf);
  return path;
}
