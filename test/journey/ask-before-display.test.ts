/**
 * A driver opens its link and asks what must be asked (SSH's host-key question, the sudo password) BEFORE its
 * progress display starts: a running listr2 display holds back what is written meanwhile, so a question asked
 * inside it is invisible and setup hangs at a prompt nobody sees (the lab's sudo-password test did, on a pty).
 */
import { describe, expect, it } from "vitest";
import type { DriverDeps, Progress, SetupRequest } from "../../src/core/driver.js";
import type { Target } from "../../src/core/inventory.js";
import { systemClock, nullLogger, type RemoteSession } from "../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../src/io/journal-store.js";
import { loadTemplates, resolveKgdboeSource } from "../../src/io/kgdboe-source.js";
import { LinuxTargetModel } from "../../src/peers/linux-target.js";
import { defaultState, WindowsTargetModel } from "../../src/peers/windows-target/model.js";
import { ModelSession } from "../../src/peers/windows-target/session.js";
import { linuxDriver } from "../../src/targets/linux/driver.js";
import { DEFAULT_KGDBOE_GIT } from "../../src/targets/linux/paths.js";
import { windowsDriver } from "../../src/targets/windows/driver.js";

const KEY = "2steg4fzbj2sz.23418vzkd4ko3.1g34ou07z4pev.1sp3yo9yz874p";

const request = (): SetupRequest => ({
  check: false,
  acceptNewHostKey: false,
  force: false,
  hostFirewall: false,
  windows: { kdnic: true, makeDefault: false, reboot: false, bitlockerUnknownOk: false, via: "ssh" },
  linux: { installDeps: false, persist: false, applyCmdline: false, forceSingleCore: 1, rspVerify: false },
});

function rig(events: string[], open: () => RemoteSession): { deps: DriverDeps; progress: Progress } {
  const inventory = {
    file: "(memory)",
    load: async () => ({ version: 1 as const, targets: [] }),
    get: async () => {
      throw new Error("not used");
    },
    update: async <T>(fn: (inv: { version: 1; targets: Target[] }) => T | Promise<T>) => fn({ version: 1, targets: [] }),
  };
  return {
    deps: {
      store: new MemoryJournalStore(),
      clock: systemClock,
      log: nullLogger,
      inventory,
      openSession: async () => {
        events.push("open");
        return open();
      },
      sudoPassword: async () => {
        events.push("ask");
        return undefined;
      },
    },
    progress: async (title, run) => {
      events.push(`display: ${title}`);
      return run({ phase() {}, line() {} });
    },
  };
}

describe("drivers ask before their progress display starts", () => {
  it("Linux: the session opens and the sudo question is asked before 'Set up lab' displays", async () => {
    const events: string[] = [];
    const { deps, progress } = rig(events, () => new LinuxTargetModel());
    const driver = linuxDriver({
      resolveSource: (spec) => resolveKgdboeSource(spec ?? "bundled", DEFAULT_KGDBOE_GIT),
      templates: loadTemplates,
    });
    const target: Target = { name: "lab", os: "linux", address: "127.0.0.1", port: 50000 };
    const prepared = await driver.prepare(target, request());
    await driver.setup({ target, request: request(), port: 50000, now: new Date(), prepared }, deps, progress);
    expect(events.slice(0, 3)).toEqual(["open", "ask", "display: Set up lab"]);
  });

  it("Windows: the link (SSH, with its host-key question) opens before 'Provision KDNET' displays", async () => {
    const events: string[] = [];
    const model = new WindowsTargetModel(defaultState());
    const { deps, progress } = rig(events, () => new ModelSession(model));
    const target: Target = { name: "win", os: "windows", address: "192.0.2.10", port: 50000 };
    await windowsDriver().setup(
      { target, request: request(), port: 50000, hostIp: "192.0.2.1", key: KEY, now: new Date() },
      deps,
      progress,
    );
    expect(events[0]).toBe("open");
    expect(events[1]).toMatch(/^display: Provision KDNET on 'win'/);
  });
});
