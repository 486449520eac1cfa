/**
 * `netdbg setup|teardown <windows-target>` end to end through the real CLI entry (main), the real inventory,
 * secret store, file journal and SSH adapter, against the Windows target model behind the in-process ssh2
 * Server fake. HOME and NETDBG_HOME point at a temp dir (known_hosts, keys, journals live there).
 */
import { describe, expect, it } from "vitest";
import { parseDbgSettings } from "../../../src/targets/windows/index.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { runMain } from "../../helpers/main.js";
import { windowsPeerHome } from "../../helpers/netdbg-home.js";
import { KEY } from "../../helpers/windows-config.js";

const model = new WindowsTargetModel(defaultState());
windowsPeerHome({ label: "win-main", key: KEY, model: () => model, port: 50007 });

describe("netdbg CLI → SSH → Windows target model", () => {
  it("setup --check, setup --json, setup again (unchanged), teardown: the store ends byte for byte as it began (host IP from the route)", async () => {
    const original = model.storeBytes();
    const check = await runMain(["setup", "win", "--check"]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain("would run: bcdedit.exe /dbgsettings net hostip:127.0.0.1 port:50007 key:<redacted:ee0c0075>");
    expect(check.stdout).not.toContain(KEY);
    expect(model.storeBytes()).toBe(original);

    const first = await runMain(["--json", "setup", "win"]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const obj = JSON.parse(first.stdout);
    expect(obj).toMatchObject({ target: "win", changed: true, debugger: "windbg -k net:port=50007,key=<redacted:ee0c0075>" });
    expect(parseDbgSettings(model.bcd(["/dbgsettings"]).output)).toMatchObject({
      hostip: "127.0.0.1",
      port: 50007,
      key: KEY,
      busparams: "0.3.0",
    });

    const again = await runMain(["--json", "setup", "win"]);
    expect(JSON.parse(again.stdout).changed).toBe(false);

    const td = await runMain(["teardown", "win"]);
    expect(td.code, td.stderr).toBe(0);
    expect(model.storeBytes()).toBe(original);
  });

  it("a refusal exits with the coded error and its fix (Secure Boot on)", async () => {
    model.state.secureBoot = "on";
    try {
      const r = await runMain(["setup", "win"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Secure Boot is on on 'win'[\s\S]*firmware settings[\s\S]*\[NETDBG-E201\]/);
    } finally {
      model.state.secureBoot = "off";
    }
  });
});
