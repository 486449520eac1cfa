import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { netdbgError } from "../../src/core/error.js";
import { runCli, spawnCli, tempHome } from "../helpers/cli.js";

const _BIN = fileURLToPath(new URL("../../bin/netdbg.js", import.meta.url));
const CAPTURE = fileURLToPath(new URL("../fixtures/kdnet/windbg-uncut.pcapng.gz", import.meta.url));

describe("netdbg's entry", () => {
  it("with no arguments prints the help on stderr and exits 2", async () => {
    const r = await runCli([], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: netdbg");
    expect(r.stderr).toContain("doctor");
    expect(r.stdout).toBe("");
  });

  it("a group without its subcommand ('netdbg kdnet') prints the group's help and exits 2", async () => {
    const r = await runCli(["kdnet"], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain("decode");
  });

  it("--help and --version still exit 0", async () => {
    expect((await runCli(["--help"])).code).toBe(0);
    expect((await runCli(["--version"])).code).toBe(0);
  });

  it("a usage error in text mode carries its NETDBG code and the subcommand's help line, once", async () => {
    const r = await runCli(["doctor", "--bogus"], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--bogus'");
    expect(r.stderr).toContain("Run 'netdbg doctor --help' for the usage. [NETDBG-E003]");
    expect(r.stderr.match(/--bogus/g)).toHaveLength(1);
    const unknown = await runCli(["keys", "frob"], { home: tempHome() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command 'frob'[\s\S]*netdbg keys --help[\s\S]*\[NETDBG-E003\]/);
  });

  it("every subcommand's --help lists the global options it honours", async () => {
    for (const args of [["doctor"], ["kdnet", "decode"], ["setup"], ["targets", "add"]]) {
      const r = await runCli([...args, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Global Options:");
      expect(r.stdout).toContain("--json");
      expect(r.stdout).toContain("--verbose");
    }
  });

  it("the global help says which command streams JSON Lines", async () => {
    const r = await runCli(["--help"]);
    expect(r.stdout.replace(/\s+/g, " ")).toContain("'kdnet decode' streams JSON Lines");
  });

  it("'kdnet decode … | head -1' ends quietly with exit 0 when the reader closes the pipe", async () => {
    const child = spawnCli(["kdnet", "decode", "--key", "8.8.8.8", CAPTURE], "dist", { home: tempHome() });
    child.stdin.end();
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // read the first line, then close the pipe as head -1 does
    const first = await new Promise<string>((resolve) => {
      child.stdout.once("data", (d: Buffer) => {
        child.stdout.destroy();
        resolve(d.toString().split("\n")[0]!);
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(first.length).toBeGreaterThan(0);
    expect(stderr).not.toContain("EPIPE");
    expect(stderr).not.toContain("Error");
    expect(code).toBe(0);
  });

  it("kdnet decode without a key names --key and --target, not a prompt that does not exist", async () => {
    const r = await runCli(["kdnet", "decode", CAPTURE], { home: tempHome() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--key <a.b.c.d>");
    expect(r.stderr).not.toContain("Standard input is not a terminal");
  });
});

describe("exit classes and fixes", () => {
  it("an unknown, changed or revoked SSH host key is an environment problem (exit 3), not a failed check", () => {
    const at = { host: "10.0.0.5", port: 22, keyType: "ssh-ed25519", fingerprint: "SHA256:x", file: "/k", line: 1 };
    expect(netdbgError("E804", at).exitCode).toBe(3);
    expect(netdbgError("E805", at).exitCode).toBe(3);
    expect(netdbgError("E818", at).exitCode).toBe(3);
  });

  it("E002 never names a --target flag (a target is the command's argument)", () => {
    expect(netdbgError("E002", { missing: ["target"] }).fix).not.toContain("--target");
    expect(netdbgError("E002", { missing: ["target (a name, --all or --group)"] }).fix).not.toContain("--target");
    expect(netdbgError("E002", { missing: ["os", "address"] }).fix).toContain("--os and --address");
  });
});
