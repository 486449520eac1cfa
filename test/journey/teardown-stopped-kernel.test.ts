/**
 * `netdbg teardown` on a Linux target whose kernel sits stopped in the debugger (a break-in nobody resumed): the
 * kernel's network stack is frozen with it, so SSH gets no answer at all (E803), and only kgdboe answers. Teardown
 * asks kgdboe over real UDP with the real RSP client, detaches the kernel, connects again and undoes the journal.
 * The stopped kernel is the kgdb stub peer (stopped until `c` or `D`); SSH times out for as long as it is stopped.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { DriverDeps, Progress, SetupRequest, TeardownRequest } from "../../src/core/driver.js";
import { isNetdbgError, netdbgError } from "../../src/core/error.js";
import type { Target } from "../../src/core/inventory.js";
import { nullLogger, type RemoteSession, systemClock } from "../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../src/io/journal-store.js";
import { loadTemplates, resolveKgdboeSource } from "../../src/io/kgdboe-source.js";
import { rspCheckUdp } from "../../src/journey/rsp-check.js";
import { LinuxTargetModel } from "../../src/peers/linux-target.js";
import { UdpKgdbStub } from "../../src/peers/rsp-stub.js";
import { linuxDriver } from "../../src/targets/linux/driver.js";
import { DEFAULT_KGDBOE_GIT } from "../../src/targets/linux/paths.js";

const request = (check = false): SetupRequest => ({
  check,
  acceptNewHostKey: false,
  force: false,
  hostFirewall: false,
  windows: { kdnic: true, makeDefault: false, reboot: false, bitlockerUnknownOk: false, via: "ssh" },
  linux: { installDeps: false, persist: false, applyCmdline: false, forceSingleCore: 1, rspVerify: false },
});

const teardown = (check: boolean): TeardownRequest => ({ check, acceptNewHostKey: false, windows: request().windows });

const progress: Progress = async (_title, run) => run({ phase() {}, line() {} });

let stub: UdpKgdbStub | undefined;
afterEach(async () => {
  await stub?.stop();
  stub = undefined;
});

/** A target set up over the Linux model, its kgdboe played by the stub; SSH answers only while the kernel runs. */
async function stoppedTarget(): Promise<{ target: Target; deps: DriverDeps; opens: string[]; stub: UdpKgdbStub }> {
  stub = new UdpKgdbStub();
  const port = await stub.start();
  const model = new LinuxTargetModel();
  const opens: string[] = [];
  const target: Target = { name: "lab", os: "linux", address: "127.0.0.1", transport: { targetPort: port } };
  const s = stub;
  const deps: DriverDeps = {
    store: new MemoryJournalStore(),
    clock: systemClock,
    log: nullLogger,
    inventory: {
      file: "(memory)",
      load: async () => ({ version: 1 as const, targets: [] }),
      get: async () => {
        throw new Error("not used");
      },
      update: async <T>(fn: (inv: { version: 1; targets: Target[] }) => T | Promise<T>) => fn({ version: 1, targets: [] }),
    },
    openSession: async (): Promise<RemoteSession> => {
      if (!s.stub.running) {
        opens.push("timeout");
        throw netdbgError("E803", { host: target.address, user: "root", port: 22, seconds: 20 });
      }
      opens.push("open");
      return model;
    },
  };
  return { target, deps, opens, stub: s };
}

const driver = () =>
  linuxDriver({
    resolveSource: (spec) => resolveKgdboeSource(spec ?? "bundled", DEFAULT_KGDBOE_GIT),
    templates: loadTemplates,
    rspCheck: (ep, localPort) => rspCheckUdp(ep, { localPort, timeoutMs: 2000 }),
  });

async function setUp(t: Target, deps: DriverDeps, s: UdpKgdbStub): Promise<void> {
  const d = driver();
  s.stub.running = true; // running while setup loads kgdboe
  await d.setup(
    { target: t, request: request(), port: 50000, now: new Date(), prepared: await d.prepare(t, request()) },
    deps,
    progress,
  );
  s.stub.running = false; // then a break-in nobody resumed
}

describe("teardown of a Linux target stopped in the debugger", () => {
  it("asks kgdboe when SSH gets no answer, detaches the kernel, connects again and undoes the journal", async () => {
    const { target, deps, opens, stub: s } = await stoppedTarget();
    await setUp(target, deps, s);
    expect((await deps.store.load("lab")).entries.some((e) => e.id === "module.load")).toBe(true);
    opens.length = 0;
    const r = await driver().teardown(target, teardown(false), deps, progress);
    expect(opens).toEqual(["timeout", "open"]);
    expect(s.stub.running).toBe(true);
    expect((r as { resumed?: string }).resumed).toMatch(/stopped in the debugger.*detached it/);
    expect(r.text?.[0]).toMatch(/^lab: SSH got no answer, but kgdboe at udp:127\.0\.0\.1:\d+ did/);
    expect(r.changed).toBe(true);
    expect((await deps.store.load("lab")).entries).toEqual([]);
  });

  it("--check changes nothing, not even a stopped kernel's state: the SSH error stands", async () => {
    const { target, deps, opens, stub: s } = await stoppedTarget();
    await setUp(target, deps, s);
    opens.length = 0;
    const err = await driver()
      .teardown(target, teardown(true), deps, progress)
      .catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E803");
    expect(opens).toEqual(["timeout"]);
    expect(s.stub.running).toBe(false);
    expect(s.datagramsOut).toBe(0);
  });

  it("no kgdboe recorded as loaded: the SSH error stands and nothing is sent", async () => {
    const { target, deps, opens, stub: s } = await stoppedTarget();
    const err = await driver()
      .teardown(target, teardown(false), deps, progress)
      .catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E803");
    expect(opens).toEqual(["timeout"]);
    expect(s.datagramsOut).toBe(0);
  });

  it("kgdboe silent too (the target is down, not stopped): the SSH error stands", async () => {
    const { target, deps, opens, stub: s } = await stoppedTarget();
    await setUp(target, deps, s);
    await s.stop(); // nothing listens on the kgdboe port now
    opens.length = 0;
    const err = await driver()
      .teardown(target, teardown(false), deps, progress)
      .catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E803");
    expect(opens).toEqual(["timeout"]);
    expect((await deps.store.load("lab")).entries.some((e) => e.id === "module.load")).toBe(true);
  });
});
