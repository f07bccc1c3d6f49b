/**
 * WebSocket echo load: `bun scripts/bench/ws-echo.ts <url> <connections> <seconds> [header:value]`.
 * Each connection sends a 64-byte binary message, waits for its echo, and repeats until
 * the time is up. Prints one JSON line: messages/s (echoes), p50/p99 round trip in ms, errors.
 */
const [url = '', conns = '64', secs = '5', header] = process.argv.slice(2);
const connections = Number(conns);
const durationMs = Number(secs) * 1000;
const headers: Record<string, string> = {};
if (header) {
  const i = header.indexOf(':');
  headers[header.slice(0, i)] = header.slice(i + 1).trim();
}
const payload = new Uint8Array(64).fill(0x62);
const latencies: number[] = [];
let errors = 0;
let messages = 0;

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers } as unknown as string[]);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('WebSocket failed to open'));
  });
}

const sockets = await Promise.all(Array.from({ length: connections }, open));
const started = performance.now();
const deadline = started + durationMs;
await Promise.all(
  sockets.map(
    (ws) =>
      new Promise<void>((resolve) => {
        let sentAt = 0;
        const send = () => {
          sentAt = performance.now();
          ws.send(payload);
        };
        ws.onmessage = () => {
          const now = performance.now();
          latencies.push(now - sentAt);
          messages++;
          if (now < deadline) send();
          else resolve();
        };
        ws.onclose = () => {
          if (performance.now() < deadline) errors++;
          resolve();
        };
        send();
      }),
  ),
);
const elapsed = (performance.now() - started) / 1000;
for (const ws of sockets) ws.close();
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
console.log(
  JSON.stringify({ mps: messages / elapsed, p50: pct(0.5), p99: pct(0.99), errors, messages }),
);
process.exit(0);

export {};
