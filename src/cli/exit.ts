import { isNetdbgError } from "../core/error.js";
import { EXIT_CODES } from "../core/errors/types.js";
import { redactText } from "../core/redact.js";

/**
 * The single exit point: maps any thrown value to output and an exit code.
 * 0 ok · 1 a check failed · 2 usage/input · 3 environment/remote · 70 internal bug.
 */
export function reportError(
  err: unknown,
  options: { json: boolean; secrets: readonly string[]; verbose: boolean; usage?: string },
  write: { stdout: (s: string) => void; stderr: (s: string) => void },
): number {
  const scrub = (s: string) => redactText(s, options.secrets);
  if (isNetdbgError(err)) {
    if (options.json) {
      write.stdout(`${JSON.stringify({ error: { code: err.code, message: scrub(err.message), fix: scrub(err.fix) } })}\n`);
    } else {
      write.stderr(`${scrub(err.message)}\n${scrub(err.fix)} [${err.code}]\n`);
      if (options.verbose && err.cause) write.stderr(`cause: ${scrub(String((err.cause as Error).stack ?? err.cause))}\n`);
    }
    return err.exitCode;
  }
  // commander's own usage errors
  const ce = err as { code?: string; exitCode?: number; message?: string };
  if (typeof ce.code === "string" && ce.code.startsWith("commander.")) {
    if (ce.code === "commander.helpDisplayed" || ce.code === "commander.version") return 0;
    // help shown because a command was missing (`netdbg`, `netdbg kdnet`): a usage error, the help is the message
    if (ce.code === "commander.help") return ce.exitCode ? EXIT_CODES.usage : 0;
    const message = scrub((ce.message ?? "usage error").replace(/^error: /, "")).replace(/^./, (ch) => ch.toUpperCase());
    const fix = `Run '${options.usage ?? "netdbg --help"}' for the usage.`;
    if (options.json) {
      write.stdout(`${JSON.stringify({ error: { code: "NETDBG-E003", message, fix } })}\n`);
    } else {
      write.stderr(`${message}\n${fix} [NETDBG-E003]\n`);
    }
    return EXIT_CODES.usage;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  const msg = `Internal error in netdbg: ${scrub(err instanceof Error ? err.message : String(err))}`;
  const fix = `This is a bug in netdbg. Please report it with the command you ran, 'netdbg --version' and this trace:\n${scrub(stack)}`;
  if (options.json) write.stdout(`${JSON.stringify({ error: { code: "NETDBG-E000", message: msg, fix } })}\n`);
  else write.stderr(`${msg}\n${fix}\n`);
  return EXIT_CODES.internal;
}
