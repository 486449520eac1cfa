/**
 * The debugger commands' flags (connect, gdb) are parsed once, at the action, into typed requests: a bad value is
 * a usage error (exit 2, E003 naming the flag) before anything is looked up, listened to or printed, and a flag
 * shared by the two OSes (--timeout, --port) means the same on both.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConnectRequest, parseGdbRequest, parseTimeoutSeconds } from "../../src/cli/connect-options.js";
import { runCliSource, stateDirWith } from "../helpers/cli.js";

const thrown = (f: () => unknown): { code?: string; message?: string } => {
  try {
    f();
  } catch (e) {
    return e as { code?: string; message?: string };
  }
  throw new Error("did not throw");
};

describe("parseConnectRequest", () => {
  it("types every flag once: numbers, the arch and break-in enums, the setup check", () => {
    expect(
      parseConnectRequest({
        exec: "regs",
        port: "50001",
        timeout: "2.5",
        arch: "arm64",
        breakIn: "sysrq-ssh",
        setupCheck: false,
        endpoint: "udp:127.0.0.1:9",
      }),
    ).toEqual({
      exec: "regs",
      port: 50001,
      timeoutS: 2.5,
      arch: "arm64",
      breakIn: "sysrq-ssh",
      setupCheck: false,
      endpoint: "udp:127.0.0.1:9",
      acceptNewHostKey: false,
    });
    expect(parseConnectRequest({})).toEqual({ setupCheck: true, acceptNewHostKey: false });
  });

  it("rejects bad values with E003 naming the flag", () => {
    for (const [flags, option] of [
      [{ timeout: "0" }, "--timeout"],
      [{ timeout: "-1" }, "--timeout"],
      [{ timeout: "abc" }, "--timeout"],
      [{ timeout: "1e9" }, "--timeout"],
      [{ timeout: "3601" }, "--timeout"],
      [{ port: "0" }, "--port"],
      [{ port: "5e4" }, "--port"],
      [{ arch: "mips" }, "--arch"],
      [{ breakIn: "nmi" }, "--break-in"],
    ] as const) {
      const e = thrown(() => parseConnectRequest(flags));
      expect(e.code, JSON.stringify(flags)).toBe("NETDBG-E003");
      expect(e.message).toContain(option);
    }
    expect(parseTimeoutSeconds("3600")).toBe(3600);
  });

  it("gdb: --listen is a TCP port (0: a free one) or unix:PATH", () => {
    expect(parseGdbRequest({}).listen).toEqual({ port: 0 });
    expect(parseGdbRequest({ listen: "4000" }).listen).toEqual({ port: 4000 });
    expect(parseGdbRequest({ listen: "unix:/tmp/s" }).listen).toEqual({ socket: "/tmp/s" });
    for (const listen of ["unix:", "70000", "", "1e3", "x"])
      expect(thrown(() => parseGdbRequest({ listen })).code, listen).toBe("NETDBG-E003");
  });
});

describe("the CLI parses the debugger flags before it does anything", () => {
  let home: string;
  beforeAll(() => {
    home = stateDirWith([
      { name: "w", os: "windows", address: "127.0.0.1" },
      { name: "lx", os: "linux", address: "127.0.0.1", transport: { targetPort: 31337 } },
    ]);
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const cli = (args: string[]) => runCliSource(args, { env: { NETDBG_HOME: home } });

  // before: Windows took any positive --timeout (1e9 s: waiting for ever), Linux only up to 3600 s; and the
  // Windows value was read after the key lookup, so a bad one surfaced as "no key stored" (E009, exit 1)
  it("connect <windows> --timeout 99999 is a usage error, as on Linux", async () => {
    for (const name of ["w", "lx"]) {
      const r = await cli(["connect", name, "--no-setup-check", "--timeout", "99999", "--exec", "r"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("NETDBG-E003");
      expect(r.stderr).toContain("--timeout");
    }
  });

  // before: gdb --no-bridge printed the command line and exited 0 with a --timeout or --listen it never read
  it("gdb --no-bridge rejects a bad --timeout or --listen instead of ignoring it", async () => {
    for (const bad of [
      ["--timeout", "abc"],
      ["--listen", "nope"],
    ]) {
      const r = await cli(["gdb", "lx", "--no-bridge", ...bad]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("NETDBG-E003");
      expect(r.stderr).toContain(bad[0]);
      expect(r.stdout).toBe("");
    }
  });

  // before: the key file was read first (E013 for a missing one, exit 1), and --seconds 1e3 listened 1000 s
  it("kdnet listen reads --seconds like --timeout, before the key", async () => {
    for (const seconds of ["abc", "1e3"]) {
      const r = await cli(["kdnet", "listen", "50000", "--seconds", seconds, "--key-file", "/nonexistent/key"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("NETDBG-E003");
      expect(r.stderr).toContain("--seconds");
    }
  });
});
