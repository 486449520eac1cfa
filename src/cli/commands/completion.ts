/**
 * `netdbg completion bash|zsh|fish`: a completion script generated from the commands themselves (so it never
 * goes stale): commands, subcommands, their long options, and target names from the inventory where a command
 * takes a target (`netdbg completion --list-targets`, which the scripts call).
 */
import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import type { Context } from "../context.js";

export const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

/** One command path's words: subcommands, long options, and whether its argument is a target name. */
export interface CompletionNode {
  path: string[];
  subcommands: string[];
  options: string[];
  takesTarget: boolean;
}

/** Whether a command's argument is an existing target's name (`targets add <name>` names a new one). */
function takesTarget(cmd: Command, path: readonly string[]): boolean {
  return cmd.registeredArguments.some(
    (a) => /^targets?$/.test(a.name()) || (a.name() === "name" && path[0] === "targets" && path[1] !== "add"),
  );
}

export function completionTree(program: Command): CompletionNode[] {
  const nodes: CompletionNode[] = [];
  const globals = program.options.map((o) => o.long).filter((l): l is string => Boolean(l));
  const walk = (cmd: Command, path: string[]) => {
    const subs = cmd.commands.filter((c) => c.name() !== "help" && !(c as { _hidden?: boolean })._hidden);
    const own = cmd.options.map((o) => o.long).filter((l): l is string => Boolean(l));
    nodes.push({
      path,
      subcommands: subs.map((c) => c.name()),
      options: [...new Set([...own, ...(path.length ? [] : globals), "--help"])],
      takesTarget: takesTarget(cmd, path),
    });
    for (const s of subs) walk(s, [...path, s.name()]);
  };
  walk(program, []);
  return nodes;
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashScript(nodes: readonly CompletionNode[]): string {
  const cases = nodes
    .map(
      (n) =>
        `    ${shq(n.path.join(" "))}) words=${shq([...n.subcommands, ...n.options].join(" "))}; targets=${n.takesTarget ? 1 : 0} ;;`,
    )
    .join("\n");
  const known = nodes.filter((n) => n.path.length).map((n) => n.path.join(" "));
  return `# netdbg completion for bash (netdbg completion bash > ~/.local/share/bash-completion/completions/netdbg)
_netdbg_known() {
  case "$1" in
${known.map((k) => `    ${shq(k)}) return 0 ;;`).join("\n")}
  esac
  return 1
}
_netdbg() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w words="" targets=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    if _netdbg_known "\${path:+$path }$w"; then path="\${path:+$path }$w"; fi
  done
  case "$path" in
${cases}
  esac
  if [[ "$cur" != -* && $targets == 1 ]]; then
    words="$words $(netdbg completion --list-targets 2>/dev/null)"
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _netdbg netdbg
`;
}

export function zshScript(nodes: readonly CompletionNode[]): string {
  return `#compdef netdbg
# netdbg completion for zsh (netdbg completion zsh > "\${fpath[1]}/_netdbg"), through zsh's bash completion layer
autoload -U +X bashcompinit && bashcompinit
${bashScript(nodes).split("\n").slice(1).join("\n")}`;
}

export function fishScript(nodes: readonly CompletionNode[]): string {
  const lines = [
    "# netdbg completion for fish (netdbg completion fish > ~/.config/fish/completions/netdbg.fish)",
    "complete -c netdbg -f",
  ];
  const cond = (path: string[]) => {
    if (path.length === 0) return "__fish_use_subcommand";
    const parts = path.map((p) => `__fish_seen_subcommand_from ${p}`);
    return parts.join("; and ");
  };
  for (const n of nodes) {
    // a deeper node's words only once its parent is complete: the top level must not see them
    const c = cond(n.path);
    const notDeeper =
      n.subcommands.length && n.path.length ? `; and not __fish_seen_subcommand_from ${n.subcommands.join(" ")}` : "";
    if (n.subcommands.length) lines.push(`complete -c netdbg -n ${shq(c + notDeeper)} -a ${shq(n.subcommands.join(" "))}`);
    for (const o of n.options) lines.push(`complete -c netdbg -n ${shq(c)} -l ${o.replace(/^--/, "")}`);
    if (n.takesTarget) lines.push(`complete -c netdbg -n ${shq(c)} -a '(netdbg completion --list-targets 2>/dev/null)'`);
  }
  return `${lines.join("\n")}\n`;
}

export function register(program: Command, ctx: () => Context): void {
  program
    .command("completion")
    .description("print a shell completion script: netdbg completion bash|zsh|fish (see the script's first line)")
    .argument("[shell]", SHELLS.join(", "))
    .option("--list-targets", "print the inventory's target names, one a line (what the scripts call)")
    .action(async (shell: string | undefined, opts: { listTargets?: boolean }) => {
      if (opts.listTargets) {
        const inv = await ctx().inventory.load();
        process.stdout.write(inv.targets.map((t) => `${t.name}\n`).join(""));
        return;
      }
      if (!SHELLS.includes(shell as Shell)) {
        throw netdbgError("E003", {
          option: "<shell>",
          value: shell ?? "(none)",
          reason: `netdbg completes ${SHELLS.join(", ")}`,
          fix: "Run e.g. 'netdbg completion bash > ~/.local/share/bash-completion/completions/netdbg'.",
        });
      }
      const nodes = completionTree(program);
      const script = shell === "bash" ? bashScript(nodes) : shell === "zsh" ? zshScript(nodes) : fishScript(nodes);
      process.stdout.write(script);
    });
}
