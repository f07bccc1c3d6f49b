/**
 * The request body as the handler sees it, over the ByteReader's body stream, which the
 * server loop keeps: it sends `100 Continue` the first time the handler reads (RFC 9110
 * §10.1.1), and after the response the loop drains what the handler left unread, or
 * gives up and closes.
 *
 * @module
 */

/** Bytes of unread request body the loop reads and discards to keep a connection. */
export const drainLimit = 64 * 1024;

export class RequestBody {
  #stream: ReadableStream<Uint8Array> | undefined;
  readonly #inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #sendContinue: (() => Promise<void>) | null;
  #done = false;
  #detached = false;
  #continueSent = false;
  #settled: Promise<void> | undefined;
  #isSettled = false;
  #resolveSettled: (() => void) | undefined;

  /**
   * `inner` null: the request has no body (done from the start). `sendContinue` is called
   * before the first read when the client expects 100-continue.
   */
  constructor(
    inner: ReadableStream<Uint8Array> | null,
    sendContinue: (() => Promise<void>) | null,
  ) {
    this.#inner = inner?.getReader();
    this.#sendContinue = sendContinue;
    if (sendContinue === null) this.#continueSent = true;
    if (inner === null) {
      this.#done = true;
      this.#isSettled = true;
    }
  }

  /**
   * Resolves when the body reached its end or failed. Made on first use: most requests
   * have no body and nobody waits for it.
   */
  get settled(): Promise<void> {
    if (this.#settled === undefined) {
      this.#settled = this.#isSettled
        ? Promise.resolve()
        : new Promise((resolve) => {
            this.#resolveSettled = resolve;
          });
    }
    return this.#settled;
  }

  #settle(): void {
    this.#isSettled = true;
    this.#resolveSettled?.();
  }

  /** What the handler reads; made on first use. */
  get stream(): ReadableStream<Uint8Array> {
    this.#stream ??= this.#makeStream();
    return this.#stream;
  }

  #makeStream(): ReadableStream<Uint8Array> {
    const sendContinue = this.#sendContinue;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (this.#detached) {
            controller.error(new TypeError('Cannot read request body: the response is complete'));
            return;
          }
          if (!this.#continueSent) {
            this.#continueSent = true;
            await sendContinue?.();
          }
          const chunk = await this.#read();
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        },
        // The handler does not want the rest; the loop decides whether to drain or close.
        cancel: () => {},
      },
      { highWaterMark: 0 },
    );
  }

  /** The body has been read to its end. */
  get done(): boolean {
    return this.#done;
  }

  /** The client was told to send the body (or was never waiting for permission). */
  get continueSent(): boolean {
    return this.#continueSent;
  }

  async #read(): Promise<Uint8Array | null> {
    if (this.#inner === undefined) return null;
    try {
      const { done, value } = await this.#inner.read();
      if (done) {
        this.#done = true;
        this.#settle();
        return null;
      }
      return value;
    } catch (error) {
      this.#settle();
      throw error;
    }
  }

  /**
   * Takes the body away from the handler and reads the rest, up to `drainLimit` bytes.
   * True when the body ended (the connection can carry another request).
   */
  async drain(): Promise<boolean> {
    this.#detached = true;
    if (this.#done) return true;
    if (!this.#continueSent) {
      this.#settle();
      return false;
    }
    let drained = 0;
    try {
      while (drained <= drainLimit) {
        const chunk = await this.#read();
        if (chunk === null) return true;
        drained += chunk.length;
      }
    } catch {
      return false;
    } finally {
      this.#settle();
    }
    return false;
  }

  /** Stops reading for good (the connection is closing). */
  cancel(): void {
    this.#detached = true;
    this.#settle();
    this.#inner?.cancel().catch(() => {});
  }
}
