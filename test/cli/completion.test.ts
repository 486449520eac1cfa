/**
 * `netdbg completion bash|zsh|fish` loaded into the real shells: bash's completion function and fish's
 * `complete -C` answer with netdbg's commands, subcommands, options and the inventory's target names (the
 * scripts call the built CLI through a `netdbg` on PATH). zsh loads its script without error.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, tempHome } from "../helpers/cli.js";

const BIN = fileURLToPath(new URL("../../bin/netdbg.js", import.meta.url));
let home: string;
let env: NodeJS.ProcessEnv;
const scripts: Record<string, string> = {};

function have(shell: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${shell}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  home = tempHome();
  // a `netdbg` on PATH that runs this build with this test's state directory
  const bin = join(home, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "netdbg"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, "netdbg"), 0o755);
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NETDBG_HOME: home, NO_COLOR: "1" };
  for (const [name, os] of [
    ["winbox", "windows"],
    ["linbox", "linux"],
  ] as const) {
    expect((await runCli(["targets", "add", name, "--os", os, "--address", "10.0.0.9", "--no-key"], { home })).code).toBe(0);
  }
  for (const sh of ["bash", "zsh", "fish"]) {
    const r = await runCli(["completion", sh], { home });
    expect(r.code).toBe(0);
    scripts[sh] = r.stdout;
  }
}, 60_000);

function bashComplete(line: string): string[] {
  const words = line.split(" ");
  const file = join(home, "completion.bash");
  writeFileSync(file, scripts.bash!);
  const script = `source ${JSON.stringify(file)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}; _netdbg; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync("bash", ["-c", script], { env, encoding: "utf8" }).split("\n").filter(Boolean);
}

describe("netdbg completion", () => {
  it("bash: commands, a group's subcommands, options, and target names", () => {
    expect(bashComplete("netdbg ke")).toEqual(["keys"]);
    expect(bashComplete("netdbg keys ")).toEqual(expect.arrayContaining(["generate", "show", "rotate", "import"]));
    expect(bashComplete("netdbg doctor --li")).toEqual(["--listen-seconds"]);
    expect(bashComplete("netdbg connect ")).toEqual(expect.arrayContaining(["winbox", "linbox"]));
    expect(bashComplete("netdbg --json keys show w")).toEqual(["winbox"]);
    // a new target's name is not completed from the existing ones
    expect(bashComplete("netdbg targets add ")).not.toContain("winbox");
    expect(bashComplete("netdbg host firewall ")).toEqual(expect.arrayContaining(["open", "close", "status"]));
  });

  it.skipIf(!have("fish"))("fish: complete -C answers with subcommands and target names", () => {
    const file = join(home, "netdbg.fish");
    writeFileSync(file, scripts.fish!);
    const ask = (line: string) =>
      execFileSync("fish", ["-c", `source ${file}; complete -C ${JSON.stringify(line)}`], { env, encoding: "utf8" })
        .split("\n")
        .map((l) => l.split("\t")[0]!)
        .filter(Boolean);
    expect(ask("netdbg ke")).toContain("keys");
    expect(ask("netdbg keys ")).toEqual(expect.arrayContaining(["import", "rotate"]));
    expect(ask("netdbg connect ")).toEqual(expect.arrayContaining(["winbox", "linbox"]));
    expect(ask("netdbg doctor --list")).toContain("--listen-seconds");
  });

  it.skipIf(!have("zsh"))("zsh: the script loads without error and registers the completion", () => {
    const file = join(home, "_netdbg");
    writeFileSync(file, scripts.zsh!);
    const out = execFileSync(
      "zsh",
      ["-f", "-c", `autoload -U compinit && compinit -u; source ${file}; echo \${_comps[netdbg]}`],
      {
        env,
        encoding: "utf8",
      },
    );
    expect(out.trim()).toContain("_netdbg");
  });

  it("names the shells it supports when given another", async () => {
    const r = await runCli(["completion", "tcsh"], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bash, zsh, fish");
  });
});
