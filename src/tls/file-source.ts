import { watch, type FSWatcher } from "node:fs";
import { readFile, realpath } from "node:fs/promises";
import { dirname } from "node:path";
import { silentLogger, type Logger } from "../observability/index.ts";
import { servingCertificate, type ServingCertificate } from "./material.ts";
import { CertificateSlot, type TlsSource, type TlsSourceDependencies } from "./source.ts";

export interface FileTlsOptions extends TlsSourceDependencies {
  readonly certFile: string;
  readonly keyFile: string;
  /** Optional CA bundle (cert-manager's `ca.crt`), only reported as `current().ca`. */
  readonly caFile?: string;
  /** Quiet time after the last change in the directories before the files are read (200 ms). */
  readonly debounceMs?: number;
  /**
   * Also re-read the files this often (60 s; 0: never), for file systems whose changes
   * fs.watch does not see.
   */
  readonly pollIntervalMs?: number;
  readonly now?: () => Date;
}

/**
 * A certificate and key from files: a mounted Secret (cert-manager, or made by
 * `digestpin certs`), reloaded when they change. Kubelet updates a Secret volume by writing a
 * new directory and swapping the `..data` symlink, so the directories holding the files are
 * watched, not the files; a burst of changes is read once, after it settles. A pair that does
 * not parse or does not match (a half-written file, a key of another certificate) is logged and
 * the certificate served so far stays.
 */
export class FileTlsSource implements TlsSource {
  readonly mode = "files";
  readonly #options: FileTlsOptions;
  readonly #slot: CertificateSlot;
  readonly #logger: Logger;
  readonly #watchers = new Map<string, FSWatcher>();
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #reloading: Promise<boolean> | undefined;
  #lastProblem: string | undefined;
  #stopped = false;

  constructor(options: FileTlsOptions) {
    this.#options = options;
    this.#slot = new CertificateSlot(options);
    this.#logger = options.logger ?? silentLogger();
  }

  async start(): Promise<ServingCertificate> {
    const first = await this.#read();
    this.#warnIfExpired(first);
    this.#slot.publish(first);
    await this.#watchDirectories();
    const pollMs = this.#options.pollIntervalMs ?? 60_000;
    if (pollMs > 0) this.#poll = setInterval(() => void this.reload(), pollMs).unref();
    return first;
  }

  current(): ServingCertificate {
    return this.#slot.current();
  }

  onChange(listener: (certificate: ServingCertificate) => void): () => void {
    return this.#slot.onChange(listener);
  }

  /**
   * Reads the files now; returns whether the certificate served changed. A pair that cannot
   * be served is logged and leaves the current one in place.
   */
  async reload(): Promise<boolean> {
    // One read at a time; a change during a read is picked up by the next scheduled one.
    while (this.#reloading !== undefined) await this.#reloading;
    if (this.#stopped) return false;
    this.#reloading = this.#reloadOnce();
    try {
      return await this.#reloading;
    } finally {
      this.#reloading = undefined;
    }
  }

  stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    return Promise.resolve();
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), this.#options.debounceMs ?? 200);
  }

  async #reloadOnce(): Promise<boolean> {
    await this.#watchDirectories(); // the symlinks may point elsewhere now
    let next: ServingCertificate;
    try {
      next = await this.#read();
    } catch (error) {
      const problem = (error as Error).message;
      if (problem !== this.#lastProblem) {
        this.#logger.warn(
          { err: error, certFile: this.#options.certFile, keyFile: this.#options.keyFile },
          "the certificate files cannot be served; keeping the current certificate",
        );
      }
      this.#lastProblem = problem;
      return false;
    }
    this.#lastProblem = undefined;
    if (this.#stopped) return false;
    const changed = this.#slot.publish(next);
    if (changed) this.#warnIfExpired(next);
    return changed;
  }

  /**
   * Watches the directories of the files as named and as resolved through symlinks: the first
   * sees kubelet's `..data` swap, the second a writer that changes the files in place.
   */
  async #watchDirectories(): Promise<void> {
    const { certFile, keyFile, caFile } = this.#options;
    const files = [certFile, keyFile, ...(caFile === undefined ? [] : [caFile])];
    const resolved = await Promise.all(files.map((file) => realpath(file).catch(() => file)));
    const wanted = new Set([...files, ...resolved].map((file) => dirname(file)));
    for (const [directory, watcher] of this.#watchers) {
      if (!wanted.has(directory)) {
        watcher.close();
        this.#watchers.delete(directory);
      }
    }
    for (const directory of wanted) {
      if (this.#stopped || this.#watchers.has(directory)) continue;
      try {
        const watcher = watch(directory, { persistent: false }, () => {
          this.#schedule();
        });
        watcher.on("error", () => {
          watcher.close();
          this.#watchers.delete(directory);
        });
        this.#watchers.set(directory, watcher);
      } catch (error) {
        this.#logger.warn({ err: error, directory }, "cannot watch a certificate directory");
      }
    }
  }

  async #read(): Promise<ServingCertificate> {
    const { certFile, keyFile, caFile } = this.#options;
    const [cert, key, ca] = await Promise.all([
      readFile(certFile, "utf8"),
      readFile(keyFile, "utf8"),
      caFile === undefined ? undefined : readFile(caFile, "utf8"),
    ]);
    return servingCertificate(cert, key, ca);
  }

  #warnIfExpired(certificate: ServingCertificate): void {
    const now = this.#options.now?.() ?? new Date();
    if (certificate.notAfter <= now) {
      this.#logger.error(
        { certFile: this.#options.certFile, notAfter: certificate.notAfter.toISOString() },
        "the serving certificate has expired",
      );
    }
  }
}
