import { Command, Option } from "commander";
import { readFileSync } from "node:fs";
import type { Context, GlobalOptions } from "./context.js";
import { reportError } from "./exit.js";
import { registerCommands } from "./commands/index.js";

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export function buildProgram(getContext: () => Context): Command {
  const program = new Command("netdbg")
    .description("Network kernel debugging in one command: KDNET (Windows) and kgdboe (Linux).")
    .version(version(), "-V, --version")
    .option(
      "--json",
      "machine-readable output: one JSON object (errors: {error:{code,message,fix}}); 'kdnet decode' streams JSON Lines instead (one object per datagram, then its summary)",
    )
    .option("-v, --verbose", "log every step and command")
    .option("--no-color", "plain output (NO_COLOR is honoured too)")
    .option("--config <file>", "read options from a YAML config file")
    .option("--state-dir <dir>", "keep inventory, keys and journals here (default: XDG dirs; env NETDBG_HOME)")
    .addOption(new Option("--show-secrets", "print keys in full instead of redacted"))
    .option(
      "--ansible-inventory <file|->",
      "targets from an Ansible inventory: INI/YAML (read with ansible-inventory) or the JSON of 'ansible-inventory --list' (- for stdin)",
    )
    .option(
      "--debug-host <name>",
      "with --ansible-inventory: take the targets whose netdbg_debug_host is this name (default: this host's name)",
    )
    .option("--port-range <from-to>", "new host UDP ports come from this range (default 50000-50039; also netdbg_port_range)")
    .showSuggestionAfterError()
    // every subcommand's --help lists the global options it honours (--json, --verbose, …)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
      // usage errors are reported once, with their code and fix, by the single exit point (exit.ts)
      outputError: () => {},
    });
  registerCommands(program, getContext);
  program.hook("preAction", async (root, action) => {
    const file = (root.opts() as GlobalOptions).config;
    if (file) (await import("./config-file.js")).applyConfigFile(file, root, action);
  });
  return program;
}

/** The `netdbg <command…> --help` line for the command named in argv (for a usage error's fix). */
export function usageLine(program: Command, argv: readonly string[]): string {
  const path: string[] = [];
  let cmd = program;
  for (const word of argv.slice(2)) {
    if (word.startsWith("-")) continue;
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    path.push(sub.name());
    cmd = sub;
  }
  return ["netdbg", ...path, "--help"].join(" ");
}

/** A reader that closed our stdout (`netdbg kdnet decode … | head -1`) ends the run quietly, with exit 0. */
export function endQuietlyOnClosedPipe(
  stream: NodeJS.WriteStream = process.stdout,
  exit: (code: number) => void = process.exit,
): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") exit(0);
    else throw e;
  });
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  let ctx: Context | undefined;
  let program: Command | undefined;
  // The context (inventory, key store, Ansible inventory: zod, yaml, execa) loads only when a command runs, so
  // --help, --version and usage errors start fast; the hook below runs before every action (after --config).
  let createContext: typeof import("./context.js").createContext | undefined;
  const getContext = (): Context => {
    if (!createContext) throw new Error("internal: the context was asked for before a command ran");
    ctx ??= createContext((program?.opts() ?? {}) as GlobalOptions);
    return ctx;
  };
  program = buildProgram(getContext);
  program.hook("preAction", async () => {
    createContext ??= (await import("./context.js")).createContext;
  });
  program.commands.forEach(function apply(c: Command) {
    c.exitOverride();
    c.commands.forEach(apply);
  });
  if (argv.length <= 2) {
    // no command at all: the help, and the usage exit code (a script that forgot its arguments must notice)
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv as string[]);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    const opts = (program.opts() ?? {}) as GlobalOptions;
    return reportError(
      err,
      {
        json: Boolean(opts.json),
        secrets: ctx?.secretsSeen ?? [],
        verbose: Boolean(opts.verbose),
        usage: usageLine(program, argv),
      },
      { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) },
    );
  }
}
