/**
 * Concurrent slow requests: `bun scripts/bench/slow-requests.ts <port> <count> <path> <endpoint>`.
 * Opens <count> TCP connections to 127.0.0.1:<port> at once, sends one GET on each and
 * counts 200 responses. Prints `{"opened":n}` when every request is written, then one JSON
 * result line when all have answered or failed.
 */
const [portArg = '', countArg = '10000', path = '/slow/10000', endpoint = 'bench'] =
  process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const request = new TextEncoder().encode(
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-piko-endpoint: ${endpoint}\r\nConnection: close\r\n\r\n`,
);
let ok = 0;
let failed = 0;
let firstError = '';
let opened = 0;

const started = performance.now();
const one = () =>
  new Promise<void>((resolve) => {
    let text = '';
    let done = false;
    const finish = (good: boolean, why = '') => {
      if (done) return;
      done = true;
      if (good) ok++;
      else {
        failed++;
        firstError ||= why;
      }
      resolve();
    };
    Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(s) {
          s.write(request);
          if (++opened === count) console.log(JSON.stringify({ opened }));
        },
        data(s, data) {
          text += new TextDecoder().decode(data);
          if (text.includes('\r\n\r\n')) {
            finish(text.startsWith('HTTP/1.1 200'), text.split('\r\n')[0]!);
            s.end();
          }
        },
        close() {
          finish(false, text ? text.split('\r\n')[0]! : 'closed without a response');
        },
        error(_s, error) {
          finish(false, error.message);
        },
      },
    }).catch((error: Error) => finish(false, error.message));
  });

// Open in batches so the listen backlog is not overrun; all stay open together.
const batches: Promise<void>[] = [];
for (let i = 0; i < count; i++) {
  batches.push(one());
  if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
}
await Promise.all(batches);
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ ok, failed, seconds, firstError }));
process.exit(0);

export {};
