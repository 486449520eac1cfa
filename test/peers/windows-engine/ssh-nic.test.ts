/**
 * The NIC that carries the SSH session, when KDNET takes it over (templates/windows/probe.ps1's sshSession: the
 * server address of SSH_CONNECTION, Get-NetIPAddress, Get-NetIPInterface). A static address there means SSH does
 * not come back in the debug boot (KDNIC takes a DHCP address): refused with E227 before any change, unless
 * --force; with --no-kdnic always refused; with DHCP a warning. Run in the real PowerShell engine and against the
 * model's table, which must agree.
 */
import { describe, expect, it } from "vitest";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { probeWindows, sessionRunner, setupWindows } from "../../../src/targets/windows/index.js";
import { noPwsh, useEngine } from "../../helpers/pwsh.js";
import { setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();
const engine = useEngine(1);

/** A model whose SSH session arrives at Ethernet's address, static or from DHCP; a second wired NIC when asked. */
function model(ip: "static" | "dhcp", secondNic = false): WindowsTargetModel {
  const s = defaultState({ sshServerAddress: "192.0.2.50" });
  const eth = s.nics.find((n) => n.name === "Ethernet")!;
  eth.ip =
    ip === "static"
      ? { address: "192.0.2.50", prefixOrigin: "Manual", dhcp: "Disabled" }
      : { address: "192.0.2.50", prefixOrigin: "Dhcp", dhcp: "Enabled" };
  if (secondNic)
    s.nics.push({
      ...eth,
      name: "Ethernet 2",
      macAddress: "52-54-00-12-34-57",
      pci: { segment: 0, bus: 0, device: 4, function: 0 },
      ip: { address: "198.51.100.7", prefixOrigin: "Manual", dhcp: "Disabled" },
    });
  return new WindowsTargetModel(s);
}

for (const where of ["engine", "table"] as const) {
  describe.skipIf(where === "engine" && noPwsh())(`SSH on the NIC KDNET takes (${where})`, () => {
    const run = (m: WindowsTargetModel) => sessionRunner(new ModelSession(m, where === "engine" ? engine() : undefined), "win");

    it("the probe names the session's NIC, its address and how it got it", async () => {
      const facts = await probeWindows(run(model("static")), { exportDir: config.exportDir });
      expect(facts.sshSession).toEqual({ address: "192.0.2.50", nic: "Ethernet", prefixOrigin: "Manual", dhcp: "Disabled" });
      const loop = await probeWindows(run(new WindowsTargetModel(defaultState())), { exportDir: config.exportDir });
      expect(loop.sshSession).toEqual({ address: "127.0.0.1", nic: null, prefixOrigin: null, dhcp: null });
    }, 60_000);

    it("a static address there: E227 and nothing changed; --force goes on and says what it costs", async () => {
      const m = model("static");
      const before = m.storeBytes();
      const store = new MemoryJournalStore();
      const e = await setupWindows({ run: run(m), store, clock: systemClock, config }).catch((x: unknown) => x);
      expect((e as { code?: string }).code).toBe("NETDBG-E227");
      expect((e as Error).message).toContain("192.0.2.50");
      expect(m.storeBytes()).toBe(before);
      expect((await store.load("win")).entries).toEqual([]);
      const forced = await setupWindows({
        run: run(m),
        store,
        clock: systemClock,
        config: { ...config, force: true },
        check: true,
      });
      expect(forced.plan.warnings.join(" ")).toMatch(/--force: SSH reaches 'win' at the static address 192\.0\.2\.50/);
    }, 60_000);

    it("DHCP there: a warning; --no-kdnic there: E227; SSH on another NIC: neither", async () => {
      const dhcp = await setupWindows({
        run: run(model("dhcp")),
        store: new MemoryJournalStore(),
        clock: systemClock,
        config,
        check: true,
      });
      expect(dhcp.plan.warnings.join(" ")).toMatch(/through 'Ethernet' \(192\.0\.2\.50, DHCP\), the NIC KDNET takes over/);
      const two = model("dhcp", true);
      const e = await setupWindows({
        run: run(two),
        store: new MemoryJournalStore(),
        clock: systemClock,
        config: { ...config, noKdnic: true, nic: "Ethernet" },
        check: true,
      }).catch((x: unknown) => x);
      expect((e as { code?: string }).code).toBe("NETDBG-E227");
      const other = model("static", true);
      other.state.sshServerAddress = "198.51.100.7";
      const ok = await setupWindows({
        run: run(other),
        store: new MemoryJournalStore(),
        clock: systemClock,
        config: { ...config, nic: "Ethernet" },
        check: true,
      });
      expect(ok.plan.warnings.join(" ")).not.toMatch(/SSH reaches/);
    }, 60_000);
  });
}
