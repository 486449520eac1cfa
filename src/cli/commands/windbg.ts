import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import { parseKdnetKey } from "../../core/kdnet-key.js";
import { redactSecret } from "../../core/redact.js";
import { kdnetPortOption } from "../options.js";
import type { Context } from "../context.js";

/** The default KDNET port when a target has none stored (MSDOC: recommended range 50000–50039). */

/**
 * `netdbg windbg <target>`: the exact WinDbg / kd command lines for a Windows target
 * (MSDOC setting-up-a-network-debugging-connection: `windbg -k net:port=<n>,key=<key>`).
 */
export function register(program: Command, ctx: () => Context): void {
  program
    .command("windbg")
    .description("print the exact 'windbg -k net:port=…,key=…' and 'kd' lines for a Windows target")
    .argument("<target>", "inventory target name")
    .option("--port <port>", "override the target's host UDP port")
    .action(async (name: string, opts: { port?: string }) => {
      const c = ctx();
      const target = await c.inventory.get(name);
      if (target.os !== "windows") throw netdbgError("E511", { name, os: target.os });
      const stored = await c.secrets.get(name);
      if (stored === undefined) throw netdbgError("E009", { name });
      parseKdnetKey(stored); // validates; the line keeps the stored spelling (leading zeros included)
      const key = stored.trim().toLowerCase();
      c.secretsSeen.push(stored, key);
      const port = kdnetPortOption(opts.port, target);
      const arg = `net:port=${port},key=${key}`;
      // Redacted, the lines still paste: the key comes from `netdbg keys show` when they run, in POSIX sh and
      // PowerShell alike ("$(…)" is command substitution in both; a target name needs no quoting).
      const fetched = `"net:port=${port},key=$(netdbg --show-secrets keys show ${name})"`;
      const lineArg = c.opts.showSecrets ? arg : fetched;
      const shown = c.opts.showSecrets ? arg : `net:port=${port},key=${redactSecret(key)}`;
      if (c.opts.json) {
        c.json({
          target: name,
          port,
          windbg: ["windbg", "-k", shown],
          kd: ["kd", "-k", shown],
          windbgLine: `windbg -k ${lineArg}`,
          kdLine: `kd -k ${lineArg}`,
          keyRedacted: !c.opts.showSecrets,
        });
        return;
      }
      c.out(`windbg -k ${lineArg}`);
      c.out(`kd -k ${lineArg}`);
      if (!c.opts.showSecrets)
        c.log.info("(the lines read the key with 'netdbg keys show' when they run; --show-secrets prints it in them)");
    });
}
