import { writeSync } from 'node:fs';
import { type ConsolaInstance, createConsola } from 'consola';
import { ByteLines } from './byte-lines.ts';
import { jsonLine, type Line, textLine, writeTextLine } from './line-format.ts';

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
    const json = options.format === 'json';
    const write = options.write;
    // A given `write` gets each line as a string; stderr gets it rendered into a batch.
    const sink = write
      ? (o: Line) => write(json ? jsonLine(o) : textLine(o, journald))
      : stderrLines(
          json
            ? (out: ByteLines, o: Line) => out.text(jsonLine(o))
            : (out: ByteLines, o: Line) => writeTextLine(out, o, journald),
        );
    return plain(sink, level, '');
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
function plain(write: (line: Line) => void, level: LogLevel, tag: string): Logger {
  const max = CONSOLA_LEVEL[level];
  const emit = (type: LogLevel) => {
    if (CONSOLA_LEVEL[type] > max) return () => {};
    return (message: string, fields?: Fields) => {
      write({ type, tag, message, fields, time: Date.now() });
    };
  };
  return loggerOf(level, emit, (child) => plain(write, level, tag ? `${tag}:${child}` : child));
}

const flushMs = 10;
const flushLinesAt = 512;
/** How a stderr logger writes one line into the batch. */
type RenderLine = (out: ByteLines, o: Line) => void;
/** Lines rendered and not yet handed to fd 2 (loggers of both formats may share it). */
const batch = new ByteLines();
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
 * Lines to stderr: each is rendered as bytes into a batch at once (the line's objects are
 * still in cache: rendering them 10 ms later cost twice as much), and the batch is written
 * after up to 10 ms or 512 lines, one write instead of one per line (at one request at a
 * time, a write per line cost about 20 µs of p50). Whatever is pending when the process
 * exits is written synchronously then.
 */
function stderrLines(renderLine: RenderLine): (line: Line) => void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      // What fd 2 has not taken yet, then the batch still gathering: in order, synchronously.
      // Past the limit too: this is the last chance to say that lines were dropped.
      if (batch.lines > 0 || dropped > 0) queueBatch(true);
      // One deadline for all of it: up to 16 MiB wait in ~150 KiB batches, and a stderr that
      // takes nothing must not hold the exit for 2 s per batch (minutes; systemd kills first).
      const deadline = Date.now() + exitWriteMs;
      for (const bytes of unwritten) if (!writeAllSync(bytes, deadline)) break;
      unwritten = [];
    });
  }
  return (line) => {
    try {
      renderLine(batch, line);
    } catch (error) {
      // A field that cannot be formatted (a cycle) must not take the process down.
      batch.dropLine();
      batch.text(`log line dropped: ${(error as Error).message}`);
    }
    batch.endLine();
    if (batch.lines >= flushLinesAt) {
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

function flushLines(): void {
  scheduled = false;
  if (batch.lines === 0) return;
  queueBatch();
  writeSome();
}

/** Queues the batch for fd 2, or counts its lines as dropped while stderr takes nothing. */
function queueBatch(force = false): void {
  if (!force && unwrittenBytes > unwrittenLimit) {
    dropped += batch.lines;
    batch.clear();
    return;
  }
  if (dropped > 0) {
    push(encoder.encode(`log: ${dropped} lines dropped, stderr was not taking them\n`));
    dropped = 0;
  }
  push(batch.take());
}

function push(bytes: Uint8Array): void {
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
