import { formatSize } from "./report.ts";

/** Reports the bytes of one download as they arrive, then its end. */
export interface LayerProgress {
  bytes(count: number): void;
  done(summary: string): void;
}

/** Layers at least this large get intermediate lines when stderr is not a terminal. */
const STEPS_FROM = 4 * 1024 * 1024;

/**
 * Download progress on stderr: on a terminal one line per layer, redrawn in place; otherwise
 * (CI logs, a pipe) plain lines: one per layer when it is read and, for large layers, one at
 * every quarter.
 */
export function downloadProgress(write: (text: string) => void, tty: boolean) {
  return (label: string, total: number): LayerProgress => {
    let done = 0;
    let quarter = 0;
    let drawn = 0;
    const amount = () => `${formatSize(done)} / ${formatSize(total)}`;
    return {
      bytes(count) {
        done += count;
        if (tty) {
          const now = Date.now();
          if (now - drawn < 100) return;
          drawn = now;
          const percent = total > 0 ? ` ${Math.floor((done * 100) / total)}%` : "";
          write(`\r\u001b[K${label}  ${amount()}${percent}`);
        } else if (total >= STEPS_FROM && quarter < 3 && done >= ((quarter + 1) * total) / 4) {
          quarter = Math.floor((done * 4) / total);
          write(`${label}  ${amount()}\n`);
        }
      },
      done(summary) {
        write(`${tty ? "\r\u001b[K" : ""}${label}  ${amount()}${summary}\n`);
      },
    };
  };
}
