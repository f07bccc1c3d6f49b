import { runtime } from '../runtime/index.ts';

export interface NotifierOptions {
  /** Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID come from; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Sends one datagram; default: the runtime's (FFI). False when it could not. */
  readonly send?: (path: string, message: string) => boolean;
  /** This process's id, to honour WATCHDOG_PID; default process.pid. */
  readonly pid?: number;
}

/**
 * sd_notify (sd_notify(3)): tells systemd when tether is ready, what it is doing, that it
 * is alive, and that it is stopping. Every call is a no-op when NOTIFY_SOCKET is unset or
 * datagrams cannot be sent (Deno without FFI permission, not Linux): systemd support
 * must never stop tether from running.
 */
export class Notifier {
  readonly #socket: string | undefined;
  readonly #send: (path: string, message: string) => boolean;
  /** Half of WATCHDOG_USEC in ms, as sd_watchdog_enabled(3) advises; undefined = off. */
  readonly watchdogIntervalMs: number | undefined;
  #lastStatus: string | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #statusTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: NotifierOptions = {}) {
    const env = options.env ?? process.env;
    this.#socket = env.NOTIFY_SOCKET || undefined;
    this.#send = options.send ?? ((path, message) => runtime.sendUnixDatagram(path, message));
    const usec = Number(env.WATCHDOG_USEC);
    const pid = env.WATCHDOG_PID === undefined ? undefined : Number(env.WATCHDOG_PID);
    const forUs = pid === undefined || pid === (options.pid ?? process.pid);
    this.watchdogIntervalMs =
      this.#socket && forUs && Number.isFinite(usec) && usec > 0
        ? Math.max(1, Math.floor(usec / 2000))
        : undefined;
  }

  /** NOTIFY_SOCKET is set: systemd (or a test) listens. */
  get enabled(): boolean {
    return this.#socket !== undefined;
  }

  /** READY=1, with a status line; starts the watchdog when systemd asked for one. */
  ready(status: string): void {
    this.#notify(`READY=1\nSTATUS=${status}`);
    this.#lastStatus = status;
    if (this.watchdogIntervalMs !== undefined && this.#watchdog === undefined) {
      this.#watchdog = setInterval(() => this.#notify('WATCHDOG=1'), this.watchdogIntervalMs);
    }
  }

  /** STATUS=, sent only when it changed. */
  status(status: string): void {
    if (status === this.#lastStatus) return;
    this.#lastStatus = status;
    this.#notify(`STATUS=${status}`);
  }

  /** Sends `describe()` as STATUS every `intervalMs` when it changed, until stop(). */
  watchStatus(describe: () => string, intervalMs = 2000): void {
    if (!this.enabled || this.#statusTimer !== undefined) return;
    this.#statusTimer = setInterval(() => this.status(describe()), intervalMs);
  }

  /** STOPPING=1: systemd shows the unit as deactivating while tether drains. */
  stopping(status: string): void {
    this.#lastStatus = status;
    this.#notify(`STOPPING=1\nSTATUS=${status}`);
  }

  /** Stops the timers (the watchdog keeps beating until the process is done draining). */
  stop(): void {
    clearInterval(this.#watchdog);
    clearInterval(this.#statusTimer);
    this.#watchdog = undefined;
    this.#statusTimer = undefined;
  }

  #notify(message: string): void {
    if (this.#socket === undefined) return;
    try {
      this.#send(this.#socket, message);
    } catch {
      // Best effort by design (see the class comment).
    }
  }
}
