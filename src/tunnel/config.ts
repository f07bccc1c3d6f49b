import { INITIAL_STREAM_WINDOW } from './frame.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Session settings; all durations in milliseconds. */
export interface SessionConfig {
  /** Send a Ping this often; 0 = off. */
  heartbeatInterval: number;
  /** No inbound frame of any kind for this long => session dead; 0 = off. */
  heartbeatTimeout: number;
  /** Inbound streams not yet accepted; overflow => RST that stream, the session lives. */
  acceptBacklog: number;
  /**
   * false: every inbound SYN is refused with RST at once (the server: only it opens streams,
   * DESIGN.md), so a peer cannot park streams and their windows that nobody will accept.
   */
  acceptStreams: boolean;
  /** Receive window of a new stream; the wire initial stays 256 KiB, the rest goes in SYN/ACK. */
  initialWindow: number;
  /** Cap for receive-window auto-tuning. */
  maxWindow: number;
  /** Concurrent streams per session. */
  maxStreams: number;
  /** No ACK/RST for an opened stream this long => that stream fails (not the session). */
  streamOpenTimeout: number;
  /** The transport refuses to drain this long => session closed. */
  writeStallTimeout: number;
  /** Outgoing frames are coalesced into transport messages up to this size. */
  maxMessageSize: number;
  onLog?: (level: LogLevel, message: string) => void;
}

export const defaultSessionConfig: Readonly<SessionConfig> = Object.freeze({
  heartbeatInterval: 20_000,
  heartbeatTimeout: 45_000,
  acceptBacklog: 256,
  acceptStreams: true,
  initialWindow: INITIAL_STREAM_WINDOW,
  maxWindow: 16 * 1024 * 1024,
  maxStreams: 65_536,
  streamOpenTimeout: 75_000,
  writeStallTimeout: 60_000,
  maxMessageSize: 1024 * 1024,
});

/** Smallest message that still holds a header and a useful payload. */
const MIN_MESSAGE_SIZE = 1024;

/** Merges `overrides` onto the defaults and checks every value once. */
export function resolveSessionConfig(overrides: Partial<SessionConfig> = {}): SessionConfig {
  const config: SessionConfig = { ...defaultSessionConfig };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  const check = (key: keyof SessionConfig, min: number, max = 2 ** 31 - 1) => {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(
        `Invalid session config ${key}: ${String(value)} (expected an integer from ${min} to ${max})`,
      );
    }
  };
  check('heartbeatInterval', 0);
  check('heartbeatTimeout', 0);
  check('acceptBacklog', 0);
  // A peer may always send the spec's initial window, so ours can never be smaller.
  check('initialWindow', INITIAL_STREAM_WINDOW, 0xffffffff);
  check('maxWindow', config.initialWindow, 0xffffffff);
  check('maxStreams', 1);
  check('streamOpenTimeout', 0);
  check('writeStallTimeout', 0);
  check('maxMessageSize', MIN_MESSAGE_SIZE);
  if (typeof config.acceptStreams !== 'boolean') {
    throw new TypeError(
      `Invalid session config acceptStreams: ${String(config.acceptStreams)} (expected a boolean)`,
    );
  }
  if (config.onLog !== undefined && typeof config.onLog !== 'function') {
    throw new TypeError('Invalid session config onLog: expected a function');
  }
  return config;
}
