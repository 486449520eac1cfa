/**
 * The CLI glue end to end: linuxSetup / linuxTeardown through the REAL ssh2 adapter (connectSsh, known_hosts,
 * exec, SFTP) against the in-process SSH server, with the fake Linux target model behind its exec handler.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createContext } from "../../../src/cli/context.js";
import { loadTemplates, resolveKgdboeSource } from "../../../src/io/kgdboe-source.js";
import { DEFAULT_KGDBOE_GIT } from "../../../src/targets/linux/paths.js";
import { setupFromFlags as linuxSetup, teardownFromFlags as linuxTeardown } from "../../helpers/setup-flags.js";
import { isNetdbgError } from "../../../src/core/error.js";
import type { Target } from "../../../src/core/inventory.js";
import { connectSsh } from "../../../src/io/ssh.js";
import { renderTemplate } from "../../../src/targets/linux/template.js";
import { LinuxTargetModel } from "../../../src/peers/linux-target.js";
import { UdpKgdbStub } from "../../../src/peers/rsp-stub.js";
import { type SshPeer, startSshPeer } from "../../../src/peers/ssh-server.js";
import { captureOutput } from "../../helpers/output.js";

const COMPAT = new URL("../../../assets/kgdboe-compat", import.meta.url).pathname;

let dir: string;
let srv: SshPeer;
let target: LinuxTargetModel;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "nd-linux-cli-"));
  srv = await startSshPeer({
    exec: async ({ command }) => {
      // SFTP writes land in srv.files: mirror them into the model, run, then mirror deletions back
      for (const [p, f] of srv.files) target.state.files.set(p, f.data.toString("latin1"));
      const r = await target.exec(command);
      for (const p of [...srv.files.keys()]) if (!target.state.files.has(p)) srv.files.delete(p);
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    },
  });
});
afterAll(async () => {
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

const lab: Target = { name: "lab", os: "linux", address: "127.0.0.1" };
const open = async () => connectSsh(srv.connectOptions(dir));

describe("netdbg setup/teardown <linux target> (CLI glue over real ssh2)", () => {
  it("--check prints every command, sends only read-only ones, uploads nothing", async () => {
    target = new LinuxTargetModel();
    srv.files.clear();
    const out = captureOutput().out;
    const ctx = createContext({ stateDir: join(dir, "state1") });
    await linuxSetup(ctx, lab, { check: true, kgdboeSource: COMPAT }, { openSession: open });
    const text = out.join("");
    expect(text).toContain("Read-only probe commands sent to lab");
    expect(text).toContain("would run] Build kgdboe against 6.1.192-kgdb with kbuild");
    expect(text).toMatch(
      /insmod \/var\/lib\/netdbg\/kgdboe\/src\/kgdboe\.ko device_name=eth0 udp_port=31337 kallsyms_lookup_name_address=0xffffffff8113d2a0 force_single_core=1/,
    );
    expect(text).toContain("sftp put Makefile kgdboe.c -> /var/lib/netdbg/kgdboe/src/");
    expect(srv.files.size).toBe(0);
    expect(target.state.loaded).toBeNull();
    expect(target.log.some((c) => c.startsWith("insmod") || c.startsWith("make") || c.startsWith("mkdir"))).toBe(false);
  });

  it("setup uploads the compat source by SFTP, loads, verifies (dmesg, then RSP from this host); --json second run is unchanged; teardown restores", async () => {
    target = new LinuxTargetModel();
    srv.files.clear();
    // kgdboe's port: the kgdb stub model on loopback, running (the RSP check must break in and detach)
    const stub = new UdpKgdbStub();
    const port = await stub.start();
    stub.stub.running = true;
    const labS: Target = { ...lab, transport: { targetPort: port } };
    const stateDir = join(dir, "state2");
    let out = captureOutput().out;
    try {
      await linuxSetup(createContext({ stateDir }), labS, { kgdboeSource: COMPAT }, { openSession: open });
    } finally {
      vi.restoreAllMocks();
    }
    expect(out.join("")).toContain("lab: kgdboe loaded and verified");
    expect(out.join("")).toMatch(
      new RegExp(`verified by RSP: udp:127\\.0\\.0\\.1:${port}@\\d+ answered the break-in \\(stop S05, pc 0xffffffff81001234`),
    );
    expect(out.join("")).toContain(`or gdb:  gdb vmlinux -ex 'target remote udp:127.0.0.1:${port}'`);
    expect(target.state.loaded).toMatchObject({ device_name: "eth0", udp_port: String(port) });
    expect(stub.stub.running && !stub.stub.connected).toBe(true);
    expect(srv.files.has("/var/lib/netdbg/kgdboe/src/kgdboe.c")).toBe(true);

    vi.restoreAllMocks();
    out = captureOutput().out;
    await linuxSetup(
      createContext({ stateDir, json: true }),
      labS,
      { kgdboeSource: COMPAT, rspVerify: false },
      { openSession: open },
    );
    const j = JSON.parse(out.join("")) as {
      changed: boolean;
      actions: { outcome: string }[];
      verified: { loaded: boolean; rsp: unknown };
    };
    expect(j.changed).toBe(false);
    expect(j.actions.map((a) => a.outcome)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(j.verified.loaded).toBe(true);
    expect(j.verified.rsp).toEqual({ outcome: "skipped", reason: "--no-rsp-verify" });
    await stub.stop();

    vi.restoreAllMocks();
    out = captureOutput().out;
    await linuxTeardown(createContext({ stateDir }), labS, {}, { openSession: open });
    expect(out.join("")).toContain("4 recorded changes undone");
    expect(target.state.loaded).toBeNull();
    expect(target.leftovers()).toEqual([]);
    expect(target.state.cpusOnline).toEqual([0, 1]);
  });

  it("rejects Windows-only flags and a bad --force-single-core before connecting", async () => {
    const ctx = createContext({ stateDir: join(dir, "state3") });
    const never = async () => {
      throw new Error("must not connect");
    };
    for (const opts of [{ reboot: true }, { forceSingleCore: "2" }]) {
      const err = await linuxSetup(ctx, lab, { kgdboeSource: COMPAT, ...opts }, { openSession: never }).catch((e: unknown) => e);
      expect(isNetdbgError(err) && err.code).toBe("NETDBG-E313");
    }
  });
});

describe("kgdboe source and templates", () => {
  it("a local directory becomes an SFTP bundle; a missing path or non-URL is E311; a URL is a git source", async () => {
    const s = await resolveKgdboeSource(COMPAT, DEFAULT_KGDBOE_GIT);
    expect(s.kind).toBe("files");
    expect(s.kind === "files" && s.files.map((f) => f.path).sort()).toEqual(["Makefile", "kgdboe.c"]);
    const err = await resolveKgdboeSource("/nonexistent/kgdboe", DEFAULT_KGDBOE_GIT).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E311");
    expect(await resolveKgdboeSource(undefined, DEFAULT_KGDBOE_GIT)).toEqual({
      kind: "git",
      url: "https://github.com/sysprogs/kgdboe.git",
    });
  });

  it("the systemd files render only declared, validated parameters", () => {
    const t = loadTemplates();
    const env = renderTemplate(t.env, {
      module: "/var/lib/netdbg/kgdboe/src/kgdboe.ko",
      device_name: "eth0",
      udp_port: "31337",
      force_single_core: "1",
      release_kgdboc: "0",
    });
    expect(env).toContain("KGDBOE_DEVICE=eth0\n");
    expect(env).not.toContain("netdbg-params");
    expect(() =>
      renderTemplate(t.env, {
        module: "/x.ko",
        device_name: "eth0; reboot",
        udp_port: "1",
        force_single_core: "1",
        release_kgdboc: "0",
      }),
    ).toThrow(/device_name/);
    expect(() => renderTemplate(t.unit, { device_name: "eth0" })).toThrow(/not declared/);
    expect(renderTemplate(t.unit, {})).toContain("After=network-online.target");
  });
});
