/**
 * `netdbg setup|teardown <windows-target>` end to end through the real CLI entry (main), the real inventory,
 * secret store, file journal and SSH adapter, against the Windows target model behind the in-process ssh2
 * Server fake. HOME and NETDBG_HOME point at a temp dir (known_hosts, keys, journals live there).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.js";
import { parseDbgSettings } from "../../../src/targets/windows/index.js";
import { type SshPeer, startSshPeer } from "../../../src/peers/ssh-server.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { tempDir } from "../../helpers/sshd.js";

const KEY = "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p";
let srv: SshPeer;
let home: string;
const model = new WindowsTargetModel(defaultState());
const saved = { HOME: process.env.HOME, NETDBG_HOME: process.env.NETDBG_HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };

beforeAll(async () => {
  home = tempDir("win-main");
  srv = await startSshPeer({
    users: ["admin"],
    noSftp: true,
    exec: ({ command, stdin }) => {
      const r = model.exec(command, stdin === "" ? undefined : stdin);
      return { stdout: r.stdout, stderr: r.stderr, code: r.exitCode };
    },
  });
  mkdirSync(join(home, ".ssh"), { mode: 0o700 });
  writeFileSync(join(home, ".ssh", "known_hosts"), `${srv.knownHostsLine()}\n`);
  writeFileSync(join(home, ".ssh", "id_ed25519"), srv.clientKey.private, { mode: 0o600 });
  const nd = join(home, "netdbg");
  mkdirSync(join(nd, "keys"), { recursive: true, mode: 0o700 });
  writeFileSync(join(nd, "keys", "win.key"), `${KEY}\n`, { mode: 0o600 });
  writeFileSync(
    join(nd, "targets.yaml"),
    [
      "version: 1",
      "targets:",
      "  - name: win",
      "    os: windows",
      "    address: 127.0.0.1",
      `    ssh: { user: admin, port: ${srv.port}, identityFile: ${join(home, ".ssh", "id_ed25519")} }`,
      "    port: 50007",
      "",
    ].join("\n"),
  );
  process.env.HOME = home;
  process.env.NETDBG_HOME = nd;
  delete process.env.SSH_AUTH_SOCK;
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await srv?.stop();
});

async function netdbg(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out.push(String(s));
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    err.push(String(s));
    return true;
  });
  try {
    const code = await main(["node", "netdbg", ...args]);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("netdbg CLI → SSH → Windows target model", () => {
  it("setup --check, setup --json, setup again (unchanged), teardown: the store ends byte for byte as it began (host IP from the route)", async () => {
    const original = model.storeBytes();
    const check = await netdbg("setup", "win", "--check");
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain("would run: bcdedit.exe /dbgsettings net hostip:127.0.0.1 port:50007 key:<redacted:ee0c0075>");
    expect(check.stdout).not.toContain(KEY);
    expect(model.storeBytes()).toBe(original);

    const first = await netdbg("--json", "setup", "win");
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const obj = JSON.parse(first.stdout);
    expect(obj).toMatchObject({ target: "win", changed: true, debugger: "windbg -k net:port=50007,key=<redacted:ee0c0075>" });
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output)).toMatchObject({
      hostip: "127.0.0.1",
      port: 50007,
      key: KEY,
      busparams: "0.3.0",
    });

    const again = await netdbg("--json", "setup", "win");
    expect(JSON.parse(again.stdout).changed).toBe(false);

    const td = await netdbg("teardown", "win");
    expect(td.code, td.stderr).toBe(0);
    expect(model.storeBytes()).toBe(original);
  });

  it("a refusal exits with the coded error and its fix (Secure Boot on)", async () => {
    model.state.secureBoot = "on";
    try {
      const r = await netdbg("setup", "win");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Secure Boot is on on 'win'[\s\S]*firmware settings[\s\S]*\[NETDBG-E201\]/);
    } finally {
      model.state.secureBoot = "off";
    }
  });
});
