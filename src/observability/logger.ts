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
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
