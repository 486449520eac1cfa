import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseKdnetKey } from "../../src/core/kdnet-key.js";
import { runCli, tempHome } from "../helpers/cli.js";

describe("netdbg targets / keys (built CLI)", () => {
  it("keys generate --json prints a key that round-trips through the parser", async () => {
    const r = await runCli(["--json", "keys", "generate"], { home: tempHome() });
    expect(r.code).toBe(0);
    const { key } = JSON.parse(r.stdout) as { key: string };
    expect(parseKdnetKey(key).text).toBe(key);
  });

  it("targets add persists a valid inventory and a 0600 key in a 0700 dir, redacted in output", async () => {
    const home = tempHome();
    const r = await runCli(
      ["--json", "targets", "add", "win1", "--os", "windows", "--address", "192.0.2.7", "--ssh-user", "admin"],
      { home },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { target: { name: string; port: number; key: string } };
    expect(out.target.port).toBeGreaterThanOrEqual(50000);
    expect(out.target.key).toMatch(/^<redacted:[0-9a-f]{8}>$/);
    const keyFile = join(home, "keys", "win1.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, "keys")).mode & 0o777).toBe(0o700);
    const stored = readFileSync(keyFile, "utf8").trim();
    expect(parseKdnetKey(stored).text).toBe(stored);
    expect(r.stdout).not.toContain(stored);
    // show redacts unless --show-secrets
    const shown = await runCli(["keys", "show", "win1"], { home });
    expect(shown.stdout.trim()).toBe(`<redacted:${createHash("sha256").update(stored).digest("hex").slice(0, 8)}>`);
    const full = await runCli(["--show-secrets", "keys", "show", "win1"], { home });
    expect(full.stdout.trim()).toBe(stored);
    const list = await runCli(["--json", "targets", "list"], { home });
    expect(JSON.parse(list.stdout).targets).toEqual([
      { name: "win1", os: "windows", address: "192.0.2.7", ssh: { user: "admin" }, port: out.target.port },
    ]);
  });

  it("gives each target its own port and refuses a port another target holds", async () => {
    const home = tempHome();
    await runCli(["targets", "add", "a", "--os", "linux", "--address", "10.0.0.1"], { home });
    await runCli(["targets", "add", "b", "--os", "linux", "--address", "10.0.0.2"], { home });
    const list = JSON.parse((await runCli(["--json", "targets", "list"], { home })).stdout) as { targets: { port: number }[] };
    expect(new Set(list.targets.map((t) => t.port)).size).toBe(2);
    const clash = await runCli(
      ["--json", "targets", "add", "c", "--os", "linux", "--address", "10.0.0.3", "--port", String(list.targets[0]!.port)],
      { home },
    );
    expect(clash.code).toBe(2);
    expect(JSON.parse(clash.stdout).error.message).toMatch(/target 'a' already uses it/);
    const low = await runCli(["--json", "targets", "add", "c", "--os", "linux", "--address", "10.0.0.3", "--port", "50"], {
      home,
    });
    expect(low.code).toBe(2);
    expect(JSON.parse(low.stdout).error.code).toBe("NETDBG-E003");
  });

  it("a corrupt inventory gives a coded error with the line and stays byte-identical", async () => {
    const home = tempHome();
    const file = join(home, "targets.yaml");
    const text = "version: 1\ntargets:\n  - name: a\n    os: bsd\n    address: 10.0.0.1\n";
    writeFileSync(file, text);
    const r = await runCli(["--json", "targets", "add", "b", "--os", "linux", "--address", "10.0.0.2"], { home });
    expect(r.code).toBe(2);
    const err = JSON.parse(r.stdout).error as { code: string; message: string; fix: string };
    expect(err.code).toBe("NETDBG-E004");
    expect(err.message).toMatch(/line 4, field 'targets\[0\]\.os'/);
    expect(err.fix).toMatch(/untouched/);
    expect(readFileSync(file, "utf8")).toBe(text);
    writeFileSync(file, "targets: [ {name: x\n");
    const syntax = await runCli(["targets", "list"], { home });
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/NETDBG-E004/);
    expect(readFileSync(file, "utf8")).toBe("targets: [ {name: x\n");
  });

  it("maps errors to exit codes: unknown target 2, not-available 3, usage 2", async () => {
    const home = tempHome();
    const unknown = await runCli(["--json", "targets", "show", "nope"], { home });
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toEqual({ error: expect.objectContaining({ code: "NETDBG-E005" }) });
    const bad = await runCli(["--json", "targets", "add", "bad name", "--os", "linux", "--address", "1.2.3.4"], { home });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe("NETDBG-E007");
    const usage = await runCli(["no-such-command"], { home });
    expect(usage.code).toBe(2);
  });

  it("--config fills options the command line did not set, and rejects unknown keys", async () => {
    const home = tempHome();
    const cfg = join(home, "cfg.yaml");
    writeFileSync(cfg, "os: linux\naddress: 10.9.8.7\ntargets-add-ignored: 1\n");
    const bad = await runCli(["--config", cfg, "targets", "add", "x"], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'targets-add-ignored' is not an option/);
    writeFileSync(cfg, "os: linux\naddress: 10.9.8.7\n");
    const ok = await runCli(["--json", "--config", cfg, "targets", "add", "x", "--address", "10.1.1.1"], { home });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).target).toMatchObject({ os: "linux", address: "10.1.1.1" });
  });

  it("keys rotate replaces the key; generate refuses to overwrite", async () => {
    const home = tempHome();
    await runCli(["targets", "add", "w", "--os", "windows", "--address", "10.0.0.9"], { home });
    const before = readFileSync(join(home, "keys", "w.key"), "utf8");
    const again = await runCli(["keys", "generate", "w"], { home });
    expect(again.code).toBe(2);
    expect(readFileSync(join(home, "keys", "w.key"), "utf8")).toBe(before);
    const rot = await runCli(["keys", "rotate", "w"], { home });
    expect(rot.code).toBe(0);
    expect(readFileSync(join(home, "keys", "w.key"), "utf8")).not.toBe(before);
  });
});

describe("non-interactive runs", () => {
  it("never prompt without a TTY: the error names every missing flag", async () => {
    const r = await runCli(["--json", "targets", "add", "x"], { home: tempHome() });
    expect(r.code).toBe(2);
    const err = JSON.parse(r.stdout).error as { code: string; message: string; fix: string };
    expect(err.code).toBe("NETDBG-E002");
    expect(err.fix).toBe("Pass --os and --address on the command line or in --config <file>.");
  });
});
