/**
 * A batch of log lines written as UTF-8 straight into one growing buffer: ASCII a byte at a
 * time, anything else through `encodeInto` (the same bytes `TextEncoder` makes of the whole
 * string, lone surrogates included).
 */
export class ByteLines {
  #buf = new Uint8Array(16 * 1024);
  #at = 0;
  /** Where the line being written started, to take it back when it fails. */
  #lineStart = 0;
  #lines = 0;
  static readonly #encoder = new TextEncoder();

  text(s: string): void {
    const n = s.length;
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    if (this.#at + n * 3 > this.#buf.length) this.#grow(n * 3);
    const buf = this.#buf;
    let at = this.#at;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        at += ByteLines.#encoder.encodeInto(s.slice(i), buf.subarray(at)).written;
        break;
      }
      buf[at++] = c;
    }
    this.#at = at;
  }

  /** Ends the line being written. */
  endLine(): void {
    this.text('\n');
    this.#lineStart = this.#at;
    this.#lines++;
  }

  /** Drops what was written of the line being written. */
  dropLine(): void {
    this.#at = this.#lineStart;
  }

  get lines(): number {
    return this.#lines;
  }

  /** The bytes of the lines ended so far, as a fresh array; the batch starts over. */
  take(): Uint8Array {
    const bytes = this.#buf.slice(0, this.#lineStart);
    this.clear();
    return bytes;
  }

  /** Starts the batch over, dropping what it holds. */
  clear(): void {
    // One huge line must not keep a huge buffer.
    if (this.#buf.length > 1024 * 1024) this.#buf = new Uint8Array(16 * 1024);
    this.#at = 0;
    this.#lineStart = 0;
    this.#lines = 0;
  }

  #grow(need: number): void {
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + need));
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
  }
}
