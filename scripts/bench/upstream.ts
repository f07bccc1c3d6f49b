/**
 * The benchmark's upstream: one minimal Bun HTTP server measured directly, through nginx and
 * through tether. Not part of tether; run by scripts/bench.ts.
 *
 *   bun scripts/bench/upstream.ts <port> <download-file>
 *
 *   GET /            64-byte body
 *   GET /size/<n>    n-byte body
 *   GET /download    the download file (1 GiB), served by Bun.file (sendfile)
 *   GET /slow/<ms>   64-byte body after <ms> milliseconds
 *   GET /ws          WebSocket echo
 */
const port = Number(process.argv[2]);
const downloadFile = process.argv[3] ?? '';

const bodies = new Map<number, Uint8Array<ArrayBuffer>>();
function body(size: number): Uint8Array<ArrayBuffer> {
  let b = bodies.get(size);
  if (!b) {
    b = new Uint8Array(size).fill(0x61);
    bodies.set(size, b);
  }
  return b;
}
const small = body(64);
const headers = { 'content-type': 'text/plain' };

Bun.serve<undefined>({
  hostname: '127.0.0.1',
  port,
  idleTimeout: 0,
  fetch(req, server) {
    const path = new URL(req.url).pathname;
    if (path === '/') return new Response(small, { headers });
    if (path.startsWith('/size/')) return new Response(body(Number(path.slice(6))), { headers });
    if (path === '/download') return new Response(Bun.file(downloadFile));
    if (path.startsWith('/slow/')) {
      server.timeout(req, 0);
      const ms = Number(path.slice(6));
      return new Promise<Response>((resolve) =>
        setTimeout(() => resolve(new Response(small, { headers })), ms),
      );
    }
    if (path === '/ws') {
      if (server.upgrade(req, { data: undefined })) return undefined;
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    return new Response('not found', { status: 404 });
  },
  websocket: {
    idleTimeout: 0,
    message(ws, message) {
      ws.send(message);
    },
  },
});
console.log(`upstream listening on 127.0.0.1:${port}`);

export {};
