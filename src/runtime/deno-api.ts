/**
 * The part of the `Deno` namespace the Deno adapter uses, typed by hand: the project
 * type-checks against Bun's and Node's types, which do not describe `Deno`. Read from
 * `globalThis` so nothing touches `Deno` until the Deno adapter is loaded.
 *
 * @module
 */

export interface DenoNetAddr {
  readonly transport: string;
  readonly hostname: string;
  readonly port: number;
}

export interface DenoConn {
  readonly localAddr: DenoNetAddr;
  readonly remoteAddr: DenoNetAddr;
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}

export interface DenoTlsConn extends DenoConn {
  handshake(): Promise<unknown>;
}

export interface DenoListener<C extends DenoConn = DenoConn> extends AsyncIterable<C> {
  readonly addr: DenoNetAddr;
  accept(): Promise<C>;
  close(): void;
}

export interface DenoHttpServer {
  readonly addr: DenoNetAddr;
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}

export interface DenoServeOptions {
  readonly hostname: string;
  readonly port: number;
  readonly cert?: string;
  readonly key?: string;
  onListen?(addr: DenoNetAddr): void;
  onError?(error: unknown): Response | Promise<Response>;
}

export interface DenoServeHandlerInfo {
  readonly remoteAddr: DenoNetAddr;
  /** Settles once the response has been sent in full. */
  readonly completed: Promise<void>;
}

export interface DenoHttpClient {
  close(): void;
}

export interface DenoNamespace {
  readonly version: { readonly deno: string };
  readonly errors: Record<string, abstract new (...args: never[]) => Error>;
  connect(options: {
    hostname: string;
    port: number;
    transport?: 'tcp';
    signal?: AbortSignal;
  }): Promise<DenoConn>;
  startTls(
    conn: DenoConn,
    options: {
      hostname?: string;
      caCerts?: string[];
      unsafelyDisableHostnameVerification?: boolean;
    },
  ): Promise<DenoTlsConn>;
  listen(options: { hostname: string; port: number; transport?: 'tcp' }): DenoListener;
  listenTls(options: {
    hostname: string;
    port: number;
    cert: string;
    key: string;
  }): DenoListener<DenoTlsConn>;
  serve(
    options: DenoServeOptions,
    handler: (request: Request, info: DenoServeHandlerInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string; idleTimeout?: number },
  ): { socket: WebSocket; response: Response };
  createHttpClient(options: { caCerts?: string[] }): DenoHttpClient;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown>; close(): void };
}

export const deno = (globalThis as unknown as { Deno: DenoNamespace }).Deno;
