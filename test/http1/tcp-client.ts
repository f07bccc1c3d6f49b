/** A raw TCP client for server-loop tests: write bytes, read with bounded waits. */
import { HttpError } from '../../src/http1/index.ts';
import { runtime, type TcpConnection } from '../../src/runtime/index.ts';
import { bytes, text } from './helpers.ts';

export class RawClient {
  received = '';
  eof = false;
  readonly conn: TcpConnection;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending: Promise<void> | null = null;

  private constructor(conn: TcpConnection) {
    this.conn = conn;
    this.#reader = conn.readable.getReader();
    this.#writer = conn.writable.getWriter();
  }

  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await runtime.connect({ host: '127.0.0.1', port }));
  }

  write(data: string | Uint8Array): Promise<void> {
    return this.#writer.write(typeof data === 'string' ? bytes(data) : data);
  }

  /** Half-closes (FIN); the client keeps reading. */
  end(): Promise<void> {
    return this.#writer.close();
  }

  close(): void {
    this.conn.close();
  }

  #readOnce(): Promise<void> {
    this.#pending ??= this.#reader
      .read()
      .then(
        ({ done, value }) => {
          if (done) this.eof = true;
          else this.received += text(value);
        },
        () => {
          this.eof = true;
        },
      )
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }

  /** Reads until `done(received)` holds or EOF; fails after `ms`. */
  async until(done: (received: string) => boolean, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    while (!done(this.received)) {
      if (this.eof) throw new Error(`EOF before condition; got ${JSON.stringify(this.received)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out; got ${JSON.stringify(this.received)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#readOnce(),
        new Promise((r) => {
          timer = setTimeout(r, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return this.received;
  }

  /** Reads until EOF; resolves with the time EOF was seen. Fails after `ms`. */
  async untilEof(ms = 3000): Promise<number> {
    const deadline = Date.now() + ms;
    while (!this.eof) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`No EOF within ${ms} ms; got ${JSON.stringify(this.received)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#readOnce(),
        new Promise((r) => {
          timer = setTimeout(r, left);
        }),
      ]);
      clearTimeout(timer);
    }
    return Date.now();
  }

  /** Takes one complete response with a Content-Length or chunked body off `received`. */
  async response(ms = 3000): Promise<{ head: string; body: string }> {
    await this.until((r) => completeResponse(r) !== null, ms);
    const { head, body, size } = completeResponse(this.received)!;
    this.received = this.received.slice(size);
    return { head, body };
  }
}

/** Parses one response at the start of `r` if it is complete (test-side, deliberately simple). */
function completeResponse(r: string): { head: string; body: string; size: number } | null {
  const end = r.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const head = r.slice(0, end);
  let i = end + 4;
  if (/^HTTP\/1\.1 1\d\d /.test(head) || /\r\ncontent-length: 0\r?$/im.test(head)) {
    return { head, body: '', size: i };
  }
  const cl = /\r\ncontent-length: (\d+)/i.exec(head);
  if (cl) {
    const n = Number(cl[1]);
    return r.length >= i + n ? { head, body: r.slice(i, i + n), size: i + n } : null;
  }
  if (/\r\ntransfer-encoding: chunked/i.test(head)) {
    let body = '';
    for (;;) {
      const lf = r.indexOf('\r\n', i);
      if (lf === -1) return null;
      const n = Number.parseInt(r.slice(i, lf), 16);
      if (Number.isNaN(n)) throw new HttpError(502, 'test', 'bad chunk in test client');
      if (n === 0) return r.length >= lf + 4 ? { head, body, size: lf + 4 } : null;
      if (r.length < lf + 2 + n + 2) return null;
      body += r.slice(lf + 2, lf + 2 + n);
      i = lf + 2 + n + 2;
    }
  }
  return { head, body: '', size: i };
}

export function header(head: string, name: string): string | undefined {
  const m = new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(head);
  return m?.[1];
}
