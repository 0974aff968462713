import { EXIT_USAGE, readCommandArgs, usageError, type Command } from "./command.ts";

const usage = `Usage: digestpin completion bash|zsh|fish

Prints a shell completion script for digestpin (and kubectl-digestpin): commands,
subcommands, options and their values (output formats, files).

  bash   source <(digestpin completion bash)      # in ~/.bashrc
  zsh    source <(digestpin completion zsh)       # in ~/.zshrc
  fish   digestpin completion fish | source       # in ~/.config/fish/config.fish

Options:
  -h, --help   Show this help.
`;

/** Subcommands a command takes as its first argument. */
const SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = {
  pins: ["list", "remove", "migrate"],
  policy: ["validate"],
  completion: ["bash", "zsh", "fish"],
};

/** Options whose value is a file or directory. */
const FILE_OPTIONS = [
  "-f",
  "--filename",
  "--policy",
  "--pins",
  "--kubeconfig",
  "--ca-file",
  "--docker-config",
  "--tls-cert-file",
  "--tls-key-file",
  "--out",
];

const OUTPUT_FORMATS = ["table", "json", "yaml", "name", "junit", "sarif"];

/** The options a command's usage text documents (`-f`, `--filename`, …). */
function optionsOf(command: Command): string[] {
  const found = command.usage.matchAll(/(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])/g);
  return [...new Set([...found].map((match) => match[1] ?? ""))].toSorted();
}

/** `digestpin completion SHELL`; `commands` is the full list (passed in: it includes this). */
export function completionCommand(commands: () => readonly Command[]): Command {
  const command: Command = {
    name: "completion",
    summary: "Print a shell completion script (bash, zsh, fish)",
    usage,
    run(args, io) {
      const parsed = readCommandArgs(command, args, {}, io);
      if (typeof parsed === "number") return Promise.resolve(parsed);
      const [shell, ...rest] = parsed.positionals;
      const fail = usageError(command, io);
      if (rest.length > 0) return Promise.resolve(fail(`unexpected argument "${rest[0] ?? ""}"`));
      const all = commands();
      switch (shell) {
        case "bash":
          io.stdout(bashScript(all));
          return Promise.resolve(0);
        case "zsh":
          io.stdout(zshScript(all));
          return Promise.resolve(0);
        case "fish":
          io.stdout(fishScript(all));
          return Promise.resolve(0);
        case undefined:
          return Promise.resolve(fail("no shell given: bash, zsh or fish"));
        default:
          fail(`unknown shell "${shell}": bash, zsh or fish`);
          return Promise.resolve(EXIT_USAGE);
      }
    },
  };
  return command;
}

function bashScript(commands: readonly Command[]): string {
  const cases = commands
    .map((c) => {
      const words = [...(SUBCOMMANDS[c.name] ?? []), ...optionsOf(c)].join(" ");
      return `    ${c.name}) words="${words}" ;;`;
    })
    .join("\n");
  return `# digestpin completion for bash: source <(digestpin completion bash)
_digestpin() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} words=""
  if [ "\${COMP_CWORD}" -le 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")} --help --version" -- "\${cur}"))
    return
  fi
  case "\${prev}" in
    ${FILE_OPTIONS.join("|")})
      COMPREPLY=($(compgen -f -- "\${cur}")); return ;;
    -o|--output)
      COMPREPLY=($(compgen -W "${OUTPUT_FORMATS.join(" ")}" -- "\${cur}")); return ;;
  esac
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  COMPREPLY=($(compgen -W "\${words}" -- "\${cur}"))
}
complete -o default -F _digestpin digestpin
complete -o default -F _digestpin kubectl-digestpin
`;
}

function zshScript(commands: readonly Command[]): string {
  return `# digestpin completion for zsh: source <(digestpin completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(commands).split("\n").slice(1).join("\n")}`;
}

function fishScript(commands: readonly Command[]): string {
  const lines = [
    "# digestpin completion for fish: digestpin completion fish | source",
    "for cmd in digestpin kubectl-digestpin",
    "  complete -c $cmd -f",
  ];
  for (const c of commands) {
    lines.push(
      `  complete -c $cmd -n __fish_use_subcommand -a ${c.name} -d ${fishQuote(c.summary)}`,
    );
    const when = `-n "__fish_seen_subcommand_from ${c.name}"`;
    for (const sub of SUBCOMMANDS[c.name] ?? []) lines.push(`  complete -c $cmd ${when} -a ${sub}`);
    for (const option of optionsOf(c)) {
      const flag = option.startsWith("--") ? `-l ${option.slice(2)}` : `-s ${option.slice(1)}`;
      const value = FILE_OPTIONS.includes(option)
        ? " -r -F"
        : option === "-o" || option === "--output"
          ? ` -r -a "${OUTPUT_FORMATS.join(" ")}"`
          : "";
      lines.push(`  complete -c $cmd ${when} ${flag}${value}`);
    }
  }
  lines.push("end", "");
  return lines.join("\n");
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
