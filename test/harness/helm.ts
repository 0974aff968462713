import { join } from "node:path";
import { tempDir, type Teardown } from "./lifecycle.ts";
import { runCommand, type CommandResult, type RunOptions } from "./run-command.ts";
import { toolPath } from "./tools.ts";

/** Runs helm; a failing helm is a result, not an error. */
export type Helm = (args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

export interface HelmOptions {
  /** The cluster helm installs into; without it helm sees no cluster at all. */
  readonly kubeconfigPath?: string;
}

/**
 * helm with its own HOME, cache, config and data dirs in a temp dir (removed on teardown), so
 * it never reads or writes the user's repositories, plugins or kubeconfig.
 */
export async function createHelm(t: Teardown, options: HelmOptions = {}): Promise<Helm> {
  const [command, home] = await Promise.all([toolPath("helm"), tempDir(t, "helm")]);
  const env = {
    HOME: home,
    XDG_CACHE_HOME: join(home, "cache"),
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    HELM_CACHE_HOME: join(home, "cache", "helm"),
    HELM_CONFIG_HOME: join(home, "config", "helm"),
    HELM_DATA_HOME: join(home, "data", "helm"),
    KUBECONFIG: options.kubeconfigPath ?? join(home, "no-kubeconfig"),
  };
  return (args, runOptions = {}) =>
    runCommand(command, args, { ...runOptions, env: { ...env, ...runOptions.env } });
}
