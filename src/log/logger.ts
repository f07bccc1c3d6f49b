import { writeSync } from 'node:fs';
import { type ConsolaInstance, createConsola } from 'consola';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type Fields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  /** A logger whose lines carry `[tag]` (text) or `"subsystem"` (json). */
  child(tag: string): Logger;
  readonly level: LogLevel;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Environment to read NO_COLOR / JOURNAL_STREAM from. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where lines go; defaults to stderr. */
  readonly write?: (line: string) => void;
  readonly isTTY?: boolean;
}

const CONSOLA_LEVEL: Record<LogLevel, number> = { error: 0, warn: 1, info: 3, debug: 4 };
// syslog priorities (RFC 5424 §6.2.1) that journald reads from a `<N>` line prefix.
const SYSLOG: Record<string, number> = {
  error: 3,
  fatal: 2,
  warn: 4,
  info: 6,
  log: 6,
  success: 6,
  debug: 7,
  trace: 7,
};

/**
 * Creates the process logger. Text lines are plain unless stderr is a terminal and
 * NO_COLOR is unset; under systemd (JOURNAL_STREAM set) every line starts with its syslog
 * priority so journald keeps levels; `json` writes one object per line.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const level = options.level ?? 'info';
  const isTTY = options.isTTY ?? Boolean(process.stderr.isTTY);
  const journald = Boolean(env.JOURNAL_STREAM);
  const fancy = options.format !== 'json' && isTTY && !env.NO_COLOR && !journald && !options.write;
  if (!fancy) {
    const format = options.format === 'json' ? jsonLine : (o: Line) => textLine(o, journald);
    const write = options.write;
    // A given `write` gets each line at once; stderr gets them in batches, formatted then.
    const sink = write ? (line: () => string) => write(line()) : stderrLines();
    return plain(sink, format, level, '');
  }
  const consola = createConsola({
    level: CONSOLA_LEVEL[level],
    // Identical lines (an access log under load) must never be folded away.
    throttle: 0,
    fancy: true,
  });
  return wrap(consola, level);
}

/**
 * Plain and JSON lines without consola: an access log writes a line per request, and
 * consola's machinery plus a write per line cost the server about 7 µs per request
 * (measured, GET c=32). consola stays for the terminal, where people read.
 */
function plain(
  write: (line: () => string) => void,
  format: (o: Line) => string,
  level: LogLevel,
  tag: string,
): Logger {
  const max = CONSOLA_LEVEL[level];
  const emit = (type: LogLevel) => {
    if (CONSOLA_LEVEL[type] > max) return () => {};
    return (message: string, fields?: Fields) => {
      const o: Line = { type, tag, message, fields, time: Date.now() };
      write(() => format(o));
    };
  };
  return loggerOf(level, emit, (child) =>
    plain(write, format, level, tag ? `${tag}:${child}` : child),
  );
}

const flushMs = 10;
const flushLinesAt = 512;
let pending: (() => string)[] = [];
let scheduled = false;
let exitHooked = false;
/**
 * Rendered batches fd 2 has not taken yet (a full non-blocking pipe). tether writes them
 * itself, in order, instead of through process.stderr: at exit a direct write overtook a
 * batch the stream still held, and one written through the stream at exit could be lost.
 */
let unwritten: Uint8Array[] = [];
let unwrittenBytes = 0;
let retrying = false;
let dropped = 0;
/** Past this much output that stderr does not take, lines are counted and dropped. */
const unwrittenLimit = 16 * 1024 * 1024;
const retryMs = 5;
/** How long the exit hook keeps trying to write what stderr has not taken. */
const exitWriteMs = 2000;
const encoder = new TextEncoder();

/**
 * Lines to stderr, gathered for up to 10 ms (or 512 lines), then formatted and written
 * together: one write instead of one per line, and the formatting off the request's path
 * (at one request at a time, a line per request cost about 20 µs of p50). Fields are
 * read when the line is formatted, so callers pass fresh objects. Whatever is pending when
 * the process exits is written synchronously then.
 */
function stderrLines(): (line: () => string) => void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      // What fd 2 has not taken yet, then the lines not rendered yet: in order, synchronously.
      // Past the limit too: this is the last chance to say that lines were dropped.
      if (pending.length > 0 || dropped > 0) queue(render(), true);
      // One deadline for all of it: up to 16 MiB wait in ~150 KiB batches, and a stderr that
      // takes nothing must not hold the exit for 2 s per batch (minutes; systemd kills first).
      const deadline = Date.now() + exitWriteMs;
      for (const bytes of unwritten) if (!writeAllSync(bytes, deadline)) break;
      unwritten = [];
    });
  }
  return (line) => {
    pending.push(line);
    if (pending.length >= flushLinesAt) {
      flushLines();
      return;
    }
    if (scheduled) return;
    scheduled = true;
    // Unref'd: a pending flush never keeps the process alive (exit writes the rest).
    const timer = setTimeout(flushLines, flushMs) as { unref?: () => void };
    timer.unref?.();
  };
}

/**
 * Writes to stderr before the process ends. The runtime may have made fd 2 non-blocking
 * (a pipe to journald or a test): partial writes and EAGAIN are retried until `deadline`.
 * True when every byte was written.
 */
function writeAllSync(bytes: Uint8Array, deadline: number): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let at = 0;
  while (at < bytes.length && Date.now() < deadline) {
    try {
      at += writeSync(2, bytes, at, bytes.length - at);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EAGAIN') return false; // stderr is gone
      Atomics.wait(pause, 0, 0, 1);
    }
  }
  return at === bytes.length;
}

function render(): string {
  const lines = pending;
  pending = [];
  let text = '';
  for (const line of lines) {
    try {
      text += `${line()}\n`;
    } catch (error) {
      // A field that cannot be formatted (a cycle) must not take the process down.
      text += `log line dropped: ${(error as Error).message}\n`;
    }
  }
  return text;
}

function flushLines(): void {
  scheduled = false;
  if (pending.length === 0) return;
  queue(render());
  writeSome();
}

function queue(text: string, force = false): void {
  if (!force && unwrittenBytes > unwrittenLimit) {
    dropped += text.split('\n').length - 1;
    return;
  }
  if (dropped > 0) {
    text = `log: ${dropped} lines dropped, stderr was not taking them\n${text}`;
    dropped = 0;
  }
  const bytes = encoder.encode(text);
  unwritten.push(bytes);
  unwrittenBytes += bytes.length;
}

/**
 * Writes what fd 2 takes now; retries the rest shortly. Bun makes a piped fd 2 non-blocking,
 * so a stderr nobody reads never stalls the process (output waits here, up to the limit).
 * Deno leaves it blocking: a full pipe then blocks the write, as in most programs, and no
 * line is lost (test/log, "a stderr nobody reads").
 */
function writeSome(): void {
  while (unwritten.length > 0) {
    const bytes = unwritten[0]!;
    let n: number;
    try {
      n = writeSync(2, bytes);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EAGAIN') {
        unwritten = []; // stderr is gone
        unwrittenBytes = 0;
        return;
      }
      n = 0;
    }
    unwrittenBytes -= n;
    if (n === bytes.length) unwritten.shift();
    else {
      unwritten[0] = bytes.subarray(n);
      if (!retrying) {
        retrying = true;
        const timer = setTimeout(() => {
          retrying = false;
          writeSome();
        }, retryMs) as { unref?: () => void };
        timer.unref?.();
      }
      return;
    }
  }
}

function wrap(consola: ConsolaInstance, level: LogLevel): Logger {
  const emit = (type: LogLevel) => (message: string, fields?: Fields) => {
    if (fields) consola[type](message, fields);
    else consola[type](message);
  };
  return loggerOf(level, emit, (tag) => wrap(consola.withTag(tag), level));
}

function loggerOf(
  level: LogLevel,
  emit: (type: LogLevel) => (message: string, fields?: Fields) => void,
  child: (tag: string) => Logger,
): Logger {
  return {
    level,
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child,
  };
}

/** One line of the plain logger, formatted later (see stderrLines). */
interface Line {
  readonly type: LogLevel;
  readonly tag: string;
  readonly message: string;
  readonly fields: Fields | undefined;
  /** Milliseconds since the epoch. */
  readonly time: number;
}

let isoMs = -1;
let isoText = '';

/** ISO 8601 time, made once per millisecond: an access log writes many lines per ms. */
function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

const LEVEL_TEXT: Record<LogLevel, string> = {
  debug: 'DEBUG',
  info: 'INFO ',
  warn: 'WARN ',
  error: 'ERROR',
};

function textLine(o: Line, journald: boolean): string {
  const fields = o.fields;
  let line = journald ? `<${SYSLOG[o.type] ?? 6}>` : `${isoTime(o.time)} ${LEVEL_TEXT[o.type]} `;
  if (o.tag) line += `[${o.tag}] `;
  line += o.message;
  if (fields) {
    for (const k in fields) {
      const v = fields[k];
      if (v === undefined) continue;
      const s = typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v);
      line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`;
    }
  }
  return line;
}

function jsonLine(o: Line): string {
  const fields = o.fields;
  const record: Record<string, unknown> = {
    time: isoTime(o.time),
    level: o.type,
    msg: o.message,
  };
  if (o.tag) record.subsystem = o.tag;
  if (fields) {
    for (const k in fields) {
      const v = fields[k];
      record[k] = v instanceof Error ? v.message : v;
    }
  }
  return JSON.stringify(record);
}
