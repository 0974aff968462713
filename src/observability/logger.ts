import { pino, type Logger } from "pino";

export type { Logger };

/**
 * Structured JSON logs. Anything that could carry a secret is redacted by path, as a second
 * line of defence: code never logs credentials, tokens or Secret data in the first place.
 */
export function createLogger(
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { app: "digestpin" },
      redact: {
        paths: [
          "*.authorization",
          "*.password",
          "*.token",
          "*.auth",
          "*.identitytoken",
          "headers.authorization",
        ],
        censor: "[redacted]",
      },
      // Milliseconds since the epoch ("time":1764678896000), pino's cheapest: formatting an ISO
      // date cost about as much as the rest of a review's line.
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    options.destination ?? stdout(),
  );
}

/**
 * Standard output, written off the event loop: a line is appended to a buffer that libuv's
 * thread pool writes; lines logged while a write is under way go out together in the next.
 * Under load that is one write per batch instead of one blocking write per review line (a
 * pipe write cost the event loop 20+ µs per line where the benchmarks ran, BENCHMARKS.md);
 * when idle each line is written at once. The buffer is flushed synchronously when the
 * process exits, and bounded (STDOUT_BUFFER_BYTES): should whatever reads the pipe stop, lines
 * are dropped rather than the webhook running out of memory.
 */
function stdout(): NodeJS.WritableStream {
  return pino.destination({
    dest: 1,
    sync: false,
    maxLength: STDOUT_BUFFER_BYTES,
  }) as unknown as NodeJS.WritableStream;
}

const STDOUT_BUFFER_BYTES = 16 * 1024 * 1024;

const unredacted = new WeakMap<Logger, Logger>();

/**
 * `logger` without the redaction pass, for lines built field by field from plain values that
 * cannot hold credentials (the line logged for an admission review). Redaction copies and
 * walks each logged object and costs more than building the line: 10 µs of 16 per review line
 * (bench/micro.ts). For such a line the output is the same, since redaction matches keys, and
 * there are none to match; the level and destination are the logger's.
 */
export function withoutRedaction(logger: Logger): Logger {
  let plain = unredacted.get(logger);
  if (plain === undefined) {
    plain = logger.child({}, { redact: [] });
    unredacted.set(logger, plain);
  }
  return plain;
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
