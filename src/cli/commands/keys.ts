import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import { generateKdnetKey, parseKdnetKey } from "../../core/kdnet-key.js";
import { redactSecret } from "../../core/redact.js";
import type { Context } from "../context.js";
import { secretStore } from "../secrets.js";

export function register(program: Command, ctx: () => Context): void {
  const keys = program.command("keys").description("KDNET keys (256-bit, stored 0600 or in the OS keyring)");

  const show = (c: Context, key: string) => (c.opts.showSecrets ? key : redactSecret(key));

  keys
    .command("generate")
    .description("generate a key; with a target, store it for that target (refuses to overwrite: use rotate)")
    .argument("[target]")
    .option("--import <key>", "store this existing key instead of a new one (e.g. from kdnet.exe)")
    .action(async (name: string | undefined, f: { import?: string }) => {
      const c = ctx();
      const key = f.import !== undefined ? parseKdnetKey(f.import) : generateKdnetKey();
      if (name === undefined) {
        // Nothing stored: the key is printed in full because that is the only place it exists.
        if (c.opts.json) return c.json({ key: key.text });
        return c.out(key.text);
      }
      c.secretsSeen.push(key.text);
      await c.inventory.get(name);
      const store = await secretStore(c);
      if (await store.get(name)) {
        throw netdbgError("E003", {
          option: "target",
          value: name,
          reason: "it already has a key",
          fix: `Use 'netdbg keys rotate ${name}' to replace it (the target must then be set up again).`,
        });
      }
      await store.set(name, key.text);
      if (c.opts.json) return c.json({ target: name, key: show(c, key.text), store: store.kind });
      c.out(`Stored a new KDNET key for '${name}': ${show(c, key.text)} (${store.kind}).`);
    });

  keys
    .command("show")
    .description("show a target's key (redacted unless --show-secrets)")
    .argument("<target>")
    .action(async (name: string) => {
      const c = ctx();
      await c.inventory.get(name);
      const key = await (await secretStore(c)).get(name);
      if (!key) throw netdbgError("E009", { name });
      c.secretsSeen.push(key);
      if (c.opts.json) return c.json({ target: name, key: show(c, key) });
      c.out(show(c, key));
    });

  keys
    .command("rotate")
    .description("replace a target's key with a fresh one (set the target up again afterwards)")
    .argument("<target>")
    .action(async (name: string) => {
      const c = ctx();
      await c.inventory.get(name);
      const store = await secretStore(c);
      const key = generateKdnetKey().text;
      c.secretsSeen.push(key);
      await store.set(name, key);
      if (c.opts.json) return c.json({ target: name, key: show(c, key), store: store.kind });
      c.out(`Rotated the key of '${name}': ${show(c, key)}. Run 'netdbg setup ${name}' so the target uses it.`);
    });
}
