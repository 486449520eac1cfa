import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import type { Clock } from "../../../src/core/interfaces.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { probeWindows, rebootAndWait, sessionRunner, setupWindows, teardownWindows } from "../../../src/targets/windows/index.js";
import { defaultState, WindowsTargetModel } from "../../../src/peers/windows-target/model.js";
import { ModelSession } from "../../../src/peers/windows-target/session.js";
import { setupConfig } from "../../helpers/windows-config.js";

const config = setupConfig();

/** Virtual time: sleep advances the clock at once. */
function fakeClock(): Clock & { slept: number[] } {
  let t = Date.parse("2026-11-21T06:00:00Z");
  const slept: number[] = [];
  return {
    slept,
    now: () => new Date(t),
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

describe("--reboot: restart into the debug entry and wait for SSH", () => {
  it("boots the debug entry once, KDNET takes the NIC (KDNIC appears), BitLocker counts down; teardown still restores the store", async () => {
    const model = new WindowsTargetModel(defaultState());
    const original = model.storeBytes();
    const store = new MemoryJournalStore();
    const run = sessionRunner(new ModelSession(model), "win");
    const r = await setupWindows({ run, store, clock: systemClock, config });
    let down = 2; // the first two reconnects fail: the target is still booting
    const clock = fakeClock();
    const back = await rebootAndWait({
      target: "win",
      run,
      close: async () => {},
      reconnect: async () => {
        if (down-- > 0) throw new Error("connect ECONNREFUSED 192.0.2.50:22");
        return { run: sessionRunner(new ModelSession(model), "win"), close: async () => {} };
      },
      clock,
      intervalMs: 5000,
    });
    expect(back).toMatchObject({ bootedEntry: r.plan.entryGuid, debug: true, attempts: 3 });
    expect(model.received.find((x) => x.script === "reboot")?.params).toEqual({ DelaySeconds: 5 });
    expect(model.state.bitlocker[0]).toMatchObject({ protectionStatus: "Off", rebootCount: 1 });
    const facts = await probeWindows(back.run!);
    expect(facts.nics.map((n) => [n.name, n.status, n.interfaceDescription])).toContainEqual([
      "Ethernet 2",
      "Up",
      "Microsoft Kernel Debug Network Adapter",
    ]);
    // the NIC KDNET owns has no Windows driver: gone from Get-NetAdapter, found through Plug and Play (problem 53)
    expect(facts.nics.find((n) => n.name === "Ethernet")).toBeUndefined();
    expect(facts.nics.find((n) => n.debuggerOwned)).toMatchObject({
      busparams: "0.3.0",
      name: "Intel(R) 82574L Gigabit Network Connection",
    });
    // the one-time bootsequence was consumed by the boot; teardown's undo of it is then a no-op
    await teardownWindows({ target: "win", run: back.run!, journal: await store.load("win"), store, clock: systemClock });
    expect(model.storeBytes()).toBe(original);
    // teardown in the debug boot suspends for one more restart instead of resuming (which would seal the debug
    // boot's settings and make the next normal boot ask for the recovery key); protection returns after it
    expect(model.state.bitlocker[0]).toMatchObject({ protectionStatus: "Off", rebootCount: 1 });
    model.reboot();
    expect(model.state.recovery).toBeUndefined();
    expect(model.state.bitlocker[0]!.protectionStatus).toBe("On");
  });

  it("a target that never comes back is a coded error after the timeout", async () => {
    const model = new WindowsTargetModel(defaultState());
    const run = sessionRunner(new ModelSession(model), "win");
    const e = await rebootAndWait({
      target: "win",
      run,
      close: async () => {},
      reconnect: async () => {
        throw new Error("connect ETIMEDOUT");
      },
      clock: fakeClock(),
      timeoutMs: 60_000,
      intervalMs: 5_000,
    }).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isNetdbgError(e) && e.code).toBe("NETDBG-E219");
    expect((e as Error).message).toContain("ETIMEDOUT");
  });
});
