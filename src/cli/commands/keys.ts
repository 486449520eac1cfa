import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { netdbgError } from "../../core/error.js";
import { generateKdnetKey, parseKdnetKey } from "../../core/kdnet-key.js";
import { redactSecret } from "../../core/redact.js";
import type { Context } from "../context.js";
import { createPrompter } from "../prompts.js";
import { secretStore } from "../secrets.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The key in what the user pasted or saved: kdnet.exe prints "Key=a.b.c.d" (Microsoft's "Set up KDNET network
 * kernel debugging automatically" page), bcdedit /dbgsettings prints "key  a.b.c.d", WinDbg's line has
 * "key=a.b.c.d"; a bare key is itself. Two different keys in one text are refused rather than guessed between.
 */
export function extractKdnetKey(text: string): string {
  const found = [...text.matchAll(/\bkey\s*[=:\s]\s*([0-9a-z]+\.[0-9a-z]+\.[0-9a-z]+\.[0-9a-z]+)\b/gi)].map((m) => m[1]!);
  const distinct = [...new Set(found.map((k) => k.toLowerCase()))];
  if (distinct.length > 1) {
    throw netdbgError("E008", { problem: `the text holds ${distinct.length} different keys; import one at a time` });
  }
  return distinct[0] ?? text.trim();
}

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
    .command("import")
    .description(
      "store a key that kdnet.exe or a colleague generated, read from --file, standard input or a hidden prompt (never from the command line)",
    )
    .argument("<target>")
    .option(
      "--file <path>",
      "read the key from this file (a bare key, kdnet.exe's 'Key=…' output, or bcdedit /dbgsettings output)",
    )
    .option("--replace", "replace the key the target already has (set the target up again afterwards)")
    .action(async (name: string, f: { file?: string; replace?: boolean }) => {
      const c = ctx();
      const target = await c.inventory.get(name);
      if (target.os !== "windows") {
        throw netdbgError("E003", {
          option: "<target>",
          value: name,
          reason: "KDNET keys belong to Windows targets, and this one is a Linux target",
          fix: "Name a Windows target ('netdbg targets list' shows each target's OS).",
        });
      }
      let text: string;
      if (f.file !== undefined) {
        try {
          text = await readFile(f.file, "utf8");
        } catch (e) {
          throw netdbgError("E013", { file: f.file, reason: (e as NodeJS.ErrnoException).code ?? String(e) }, { cause: e });
        }
      } else if (!process.stdin.isTTY) {
        text = await readStdin();
      } else {
        text = await createPrompter().password({ flag: "file", message: `KDNET key for '${name}' (a.b.c.d; not echoed)` });
      }
      const candidate = extractKdnetKey(text);
      // a malformed key's error names the part at fault: even a part of a key stays out of the output
      c.secretsSeen.push(candidate, ...candidate.split(/[.\s]+/).filter((p) => p.length >= 4));
      const key = parseKdnetKey(candidate);
      c.secretsSeen.push(key.text);
      const store = await secretStore(c);
      const had = await store.get(name);
      if (had) c.secretsSeen.push(had);
      if (had && !f.replace) {
        if (parseKdnetKey(had).text === key.text) {
          if (c.opts.json) return c.json({ target: name, key: show(c, key.text), store: store.kind, changed: false });
          return c.out(`'${name}' already has this key: nothing changed.`);
        }
        throw netdbgError("E003", {
          option: "<target>",
          value: name,
          reason: "it already has another key",
          fix: `Pass --replace to store the imported key instead (then run 'netdbg setup ${name}' so the target uses it).`,
        });
      }
      await store.set(name, key.text);
      if (c.opts.json) return c.json({ target: name, key: show(c, key.text), store: store.kind, changed: true });
      c.out(
        `Imported the KDNET key of '${name}': ${show(c, key.text)} (${store.kind}).${had ? ` Run 'netdbg setup ${name}' so the target uses it.` : ""}`,
      );
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
