/**
 * Both ends of a bulk TCP transfer, for TCP forwarding through tether (`tether forward tcp`
 * → proxy port → agent → this server). Not part of tether; run by scripts/bench-ab.ts.
 *
 *   bun scripts/bench/tcp-peer.ts serve <port>
 *   bun scripts/bench/tcp-peer.ts up|down <port> <bytes>
 *
 * The client's first line asks for a direction. `down <n>`: the server sends n bytes, then
 * FIN. `up <n>`: the client sends n bytes, then FIN; the server answers `ok <count>` once it
 * has read to the FIN. The client prints one JSON line: {"mbps": …, "bytes": …}.
 */
import net from 'node:net';

const [mode = '', portText = '', bytesText = '0'] = process.argv.slice(2);
const port = Number(portText);
const block = Buffer.alloc(256 * 1024, 0x61);

/** Writes `n` bytes of `block` with backpressure, then calls `done`. */
function send(socket: net.Socket, n: number, done: () => void): void {
  let left = n;
  const pump = () => {
    while (left > 0) {
      const piece = left >= block.length ? block : block.subarray(0, left);
      left -= piece.length;
      if (!socket.write(piece)) {
        socket.once('drain', pump);
        return;
      }
    }
    done();
  };
  pump();
}

if (mode === 'serve') {
  net
    .createServer((socket) => {
      socket.on('error', () => socket.destroy());
      let line = '';
      let count = 0;
      let upload = false;
      socket.on('data', (data) => {
        if (upload) {
          count += data.length;
          return;
        }
        line += data.toString('latin1');
        const nl = line.indexOf('\n');
        if (nl < 0) return;
        const [dir, size] = line.slice(0, nl).split(' ');
        if (dir === 'down') send(socket, Number(size), () => socket.end());
        else {
          upload = true;
          count = line.length - nl - 1;
        }
      });
      socket.on('end', () => {
        if (upload) socket.end(`ok ${count}`);
      });
    })
    .listen(port, '127.0.0.1', () => console.log(`tcp peer listening on 127.0.0.1:${port}`));
} else if (mode === 'up' || mode === 'down') {
  const n = Number(bytesText);
  const started = performance.now();
  const socket = net.connect(port, '127.0.0.1');
  let received = 0;
  let answer = '';
  socket.on('connect', () => {
    socket.write(`${mode} ${n}\n`);
    if (mode === 'up') send(socket, n, () => socket.end());
  });
  socket.on('data', (data) => {
    if (mode === 'down') received += data.length;
    else answer += data.toString('latin1');
  });
  socket.on('end', () => {
    const seconds = (performance.now() - started) / 1000;
    const bytes = mode === 'down' ? received : Number(answer.split(' ')[1]);
    if (bytes !== n) {
      console.error(`transfer ended after ${bytes} of ${n} bytes (${answer || 'no answer'})`);
      process.exit(1);
    }
    console.log(JSON.stringify({ mbps: n / seconds / 1e6, bytes: n }));
    process.exit(0);
  });
  socket.on('error', (error) => {
    console.error(`Cannot transfer: ${error.message}`);
    process.exit(1);
  });
} else {
  console.error('Usage: tcp-peer.ts serve <port> | up|down <port> <bytes>');
  process.exit(2);
}
