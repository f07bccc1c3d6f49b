import type { RequestAbort } from '../streams/index.ts';
import type { RequestBody } from './request-body.ts';
import { serializeResponseHead } from './serialize.ts';
import type { IncomingRequest } from './serve-types.ts';
import type { RequestHead, ResponseHead } from './types.ts';
import type { BodyWriter } from './write-body.ts';

/**
 * The request `serveHttp1` hands its handler. A class rather than an object literal: a
 * literal with getters and arrow functions made two accessors and two closures per request.
 */
export class ServedRequest implements IncomingRequest {
  /** The final head is out: interim responses are dropped, 100 Continue is too late. */
  headWritten = false;
  readonly #body: RequestBody;
  readonly #abort: RequestAbort;
  readonly #writer: BodyWriter;

  constructor(
    readonly head: RequestHead,
    readonly remoteAddress: string,
    readonly remotePort: number,
    body: RequestBody,
    abort: RequestAbort,
    writer: BodyWriter,
  ) {
    this.#body = body;
    this.#abort = abort;
    this.#writer = writer;
  }

  get body(): ReadableStream<Uint8Array> {
    return this.#body.stream;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  watchAbort(fn: () => void): () => void {
    return this.#abort.watch(fn);
  }

  async informational(interim: ResponseHead): Promise<void> {
    if (interim.status < 102 || interim.status > 199) {
      throw new RangeError(`Cannot send interim response: status ${interim.status} is not 102–199`);
    }
    if (this.headWritten || this.head.minor === 0) return;
    await this.#writer.write(serializeResponseHead({ ...interim, minor: 1 }));
  }
}
