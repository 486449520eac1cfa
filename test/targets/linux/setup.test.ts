import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { SUDO_PROBE } from "../../../src/core/remote.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { pollProbe } from "../../../src/targets/linux/pollctl.js";
import { PROBE } from "../../../src/targets/linux/probe.js";
import { type LinuxSetupInput, setupLinuxTarget, teardownLinuxTarget } from "../../../src/targets/linux/setup.js";
import { loadTemplates } from "../../../src/io/kgdboe-source.js";
import { LinuxTargetModel } from "../../../src/peers/linux-target.js";
import { COMPAT_SOURCE, linuxSetupInput } from "../../helpers/linux-facts.js";

const SOURCE = COMPAT_SOURCE;
const input = (over: Partial<LinuxSetupInput["config"]> = {}, check = false) => linuxSetupInput(over, check);

const READ_ONLY = new Set<string>([
  SUDO_PROBE,
  ...Object.values(PROBE).filter((v): v is string => typeof v === "string"),
  PROBE.route("10.0.2.2"),
  pollProbe(["e1000"]) ?? "",
]);

async function expectCode(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isNetdbgError(err) ? err.code : err).toBe(code);
}

describe("setup against a target", () => {
  it("stock kernel without KGDB: stops with E300 and sends only read-only probes", async () => {
    const t = new LinuxTargetModel({ release: "6.1.0-56-amd64", config: "# CONFIG_KGDB is not set\nCONFIG_NETPOLL=y" });
    const store = new MemoryJournalStore();
    await expectCode(setupLinuxTarget(input(), { session: t, store, clock: systemClock }), "NETDBG-E300");
    expect(t.log.every((c) => READ_ONLY.has(c))).toBe(true);
    expect(t.uploads).toEqual([]);
    expect((await store.load("lab")).entries).toEqual([]);
  });

  it("kgdb kernel: uploads, builds, loads with computed parameters, verifies from dmesg; second run is unchanged; teardown restores", async () => {
    const t = new LinuxTargetModel();
    const store = new MemoryJournalStore();
    const r = await setupLinuxTarget(input(), { session: t, store, clock: systemClock });
    expect(r.changed).toBe(true);
    expect(r.actions.map((a) => [a.id, a.outcome])).toEqual([
      ["workdir.create", "changed"],
      ["source.upload", "changed"],
      ["module.build", "changed"],
      ["module.load", "changed"],
    ]);
    expect(t.log).toContain(
      "insmod /var/lib/netdbg/kgdboe/src/kgdboe.ko device_name=eth0 udp_port=31337 kallsyms_lookup_name_address=0xffffffff8113d2a0 force_single_core=1",
    );
    expect(t.uploads).toEqual(["/var/lib/netdbg/kgdboe/src/Makefile", "/var/lib/netdbg/kgdboe/src/kgdboe.c"]);
    expect(r.verified).toMatchObject({ loaded: true, udpTarget: { host: "10.0.2.15", port: 31337 } });
    expect(t.state.cpusOnline).toEqual([0]);
    expect(r.warnings.join("\n")).toMatch(/CPU 1 offline/);

    const again = await setupLinuxTarget(input(), { session: t, store, clock: systemClock });
    expect(again.changed).toBe(false);
    expect(again.actions.every((a) => a.outcome === "unchanged")).toBe(true);
    expect(again.verified?.loaded).toBe(true);

    const td = await teardownLinuxTarget({ target: "lab", check: false }, { session: t, store, clock: systemClock });
    expect(td.changed).toBe(true);
    expect(t.state.loaded).toBeNull();
    expect(t.state.cpusOnline).toEqual([0, 1]);
    expect(t.leftovers()).toEqual([]);
    expect((await store.load("lab")).entries).toEqual([]); // journal removed after a complete teardown
  });

  it("check mode: plans every command but sends only read-only ones and journals nothing", async () => {
    const t = new LinuxTargetModel();
    const store = new MemoryJournalStore();
    const r = await setupLinuxTarget(input({}, true), { session: t, store, clock: systemClock });
    expect(t.log.every((c) => READ_ONLY.has(c))).toBe(true);
    expect(t.uploads).toEqual([]);
    expect(r.actions.map((a) => a.outcome)).toEqual(["skipped", "skipped", "skipped", "skipped"]);
    expect(r.actions.find((a) => a.id === "module.load")?.command).toMatch(/^insmod .* device_name=eth0 udp_port=31337 /);
    expect(r.actions.find((a) => a.id === "module.load")?.undo).toBe(
      "if [ -d /sys/module/kgdboe ]; then rmmod kgdboe; fi && for c in 1; do echo 1 > /sys/devices/system/cpu/cpu$c/online; done",
    );
    expect((await store.load("lab")).entries).toEqual([]);
  });

  it("a failing insmod is classified from the kernel log and rolled back", async () => {
    const t = new LinuxTargetModel();
    t.state.insmodFailure = {
      dmesg: ["[  77.1] kgdboe: Failed to register rx handler for eth0, code -16"],
      stderr: "insmod: ERROR: could not insert module /var/lib/netdbg/kgdboe/src/kgdboe.ko: Device or resource busy",
    };
    const store = new MemoryJournalStore();
    await expectCode(setupLinuxTarget(input(), { session: t, store, clock: systemClock }), "NETDBG-E325");
    expect(t.leftovers()).toEqual([]);
    expect((await store.load("lab")).entries.map((e) => [e.id, e.status])).toEqual([
      ["workdir.create", "undone"],
      ["source.upload", "undone"],
      ["module.build", "undone"],
      ["module.load", "undone"],
    ]);
  });

  it("an SSH cut in the middle of apply, then a rerun, converges; teardown leaves nothing", async () => {
    const t = new LinuxTargetModel();
    const store = new MemoryJournalStore();
    let dead = false;
    t.cut = (c) => {
      if (c.startsWith("make ")) dead = true;
      return dead;
    };
    await expect(setupLinuxTarget(input(), { session: t, store, clock: systemClock })).rejects.toThrow();
    const j = await store.load("lab");
    expect(j.entries.map((e) => e.id)).toContain("module.build");
    t.cut = undefined;
    const r = await setupLinuxTarget(input(), { session: t, store, clock: systemClock });
    expect(r.verified?.loaded).toBe(true);
    const again = await setupLinuxTarget(input(), { session: t, store, clock: systemClock });
    expect(again.changed).toBe(false);
    await teardownLinuxTarget({ target: "lab", check: false }, { session: t, store, clock: systemClock });
    expect(t.state.loaded).toBeNull();
    expect(t.leftovers()).toEqual([]);
  });

  it("kgdboc holding KGDB (the lab's kgdb kernel): released for kgdboe, restored by teardown", async () => {
    const t = new LinuxTargetModel({ kgdboc: "ttyS1,115200" });
    const store = new MemoryJournalStore();
    const r = await setupLinuxTarget(input(), { session: t, store, clock: systemClock });
    expect(r.actions.map((a) => a.id)).toContain("kgdboc.release");
    expect(r.verified?.loaded).toBe(true);
    expect(t.state.kgdboc).toBe("");
    const again = await setupLinuxTarget(input(), { session: t, store, clock: systemClock });
    expect(again.changed).toBe(false);
    await teardownLinuxTarget({ target: "lab", check: false }, { session: t, store, clock: systemClock });
    expect(t.state.kgdboc).toBe("ttyS1,115200");
    expect(t.state.loaded).toBeNull();
  });

  it("kgdboc that will not let go: E309 with the fix, and the run's changes are rolled back", async () => {
    const t = new LinuxTargetModel({ kgdboc: "ttyS1,115200", kgdbocStuck: true });
    const store = new MemoryJournalStore();
    const err = await setupLinuxTarget(input(), { session: t, store, clock: systemClock }).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E309");
    expect(isNetdbgError(err) && err.message).toContain("kgdboc holds KGDB on the target ('ttyS1,115200')");
    expect(isNetdbgError(err) && err.fix).toContain("echo > /sys/module/kgdboc/parameters/kgdboc");
    expect(t.state.loaded).toBeNull();
    expect(t.state.kgdboc).toBe("ttyS1,115200");
    expect(t.leftovers()).toEqual([]);
    expect(t.log.some((c) => c.startsWith("insmod"))).toBe(false);
  });

  it("kgdbdbgp on the kernel command line (cannot be released at run time): E309 before any change", async () => {
    const t = new LinuxTargetModel({ cmdline: "console=ttyS0 root=/dev/vda kgdbdbgp=0" });
    const store = new MemoryJournalStore();
    const err = await setupLinuxTarget(input(), { session: t, store, clock: systemClock }).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E309");
    expect(isNetdbgError(err) && err.fix).toMatch(/Remove kgdbdbgp=/);
    expect(t.log.every((c) => READ_ONLY.has(c))).toBe(true);
    expect((await store.load("lab")).entries).toEqual([]);
  });

  it("--persist with kgdboc= on the kernel command line: the boot loader is told to release it (KGDB has one I/O driver)", async () => {
    const templates = loadTemplates();
    const withBootKgdboc = new LinuxTargetModel({ kgdboc: "ttyS1,115200", cmdline: "console=ttyS0 kgdboc=ttyS1,115200 nokaslr" });
    await setupLinuxTarget(input({ persist: true, templates }), {
      session: withBootKgdboc,
      store: new MemoryJournalStore(),
      clock: systemClock,
    });
    expect(withBootKgdboc.state.files.get("/etc/netdbg/kgdboe.env")).toContain("KGDBOE_RELEASE_KGDBOC=1\n");
    expect(withBootKgdboc.state.files.get("/var/lib/netdbg/kgdboe/load.sh")).toContain(
      'KGDBOE_RELEASE_KGDBOC:-0}" = 1 ] && [ -n "$(cat /sys/module/kgdboc/parameters/kgdboc',
    );
    const plain = new LinuxTargetModel();
    await setupLinuxTarget(input({ persist: true, templates }), {
      session: plain,
      store: new MemoryJournalStore(),
      clock: systemClock,
    });
    expect(plain.state.files.get("/etc/netdbg/kgdboe.env")).toContain("KGDBOE_RELEASE_KGDBOC=0\n");
  });

  it("--persist installs and enables the systemd unit with rendered parameters; rerun unchanged; teardown removes it", async () => {
    const t = new LinuxTargetModel();
    const store = new MemoryJournalStore();
    const templates = loadTemplates();
    const r = await setupLinuxTarget(input({ persist: true, templates }), { session: t, store, clock: systemClock });
    expect(r.actions.slice(-2).map((a) => [a.id, a.outcome])).toEqual([
      ["persist.files", "changed"],
      ["persist.enable", "changed"],
    ]);
    expect(t.state.files.get("/etc/netdbg/kgdboe.env")).toContain("KGDBOE_DEVICE=eth0\nKGDBOE_UDP_PORT=31337\n");
    expect(t.state.files.get("/etc/systemd/system/netdbg-kgdboe.service")).toContain("After=network-online.target");
    expect(t.state.unitEnabled).toBe(true);
    const again = await setupLinuxTarget(input({ persist: true, templates }), { session: t, store, clock: systemClock });
    expect(again.changed).toBe(false);
    await teardownLinuxTarget({ target: "lab", check: false }, { session: t, store, clock: systemClock });
    expect(t.state.unitEnabled).toBe(false);
    expect(t.leftovers()).toEqual([]);
  });

  it("lockdown and missing headers stop before any change", async () => {
    await expectCode(
      setupLinuxTarget(input(), {
        session: new LinuxTargetModel({ lockdown: "none [integrity] confidentiality" }),
        store: new MemoryJournalStore(),
        clock: systemClock,
      }),
      "NETDBG-E303",
    );
    const t = new LinuxTargetModel({ headers: false });
    const err = await setupLinuxTarget(input(), { session: t, store: new MemoryJournalStore(), clock: systemClock }).catch(
      (e: unknown) => e,
    );
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E304");
    expect(isNetdbgError(err) && err.fix).toContain("apt-get install -y --no-install-recommends linux-headers-6.1.192-kgdb");
  });

  it("--install-deps: an HWE kernel built with gcc-12 on a gcc-11 machine gets gcc-12 and CC=gcc-12; teardown removes it", async () => {
    const config = `${"CONFIG_GCC_VERSION=120300\n"}${new LinuxTargetModel().state.config}`;
    // without the compiler step the build fails as on a real Ubuntu 22.04 HWE machine (E352)
    const t = new LinuxTargetModel({ config, gcc: "11.4.0" });
    const store = new MemoryJournalStore();
    const r = await setupLinuxTarget(input({ installDeps: true }), { session: t, store, clock: systemClock });
    expect(r.actions.map((a) => a.id)).toContain("deps.install");
    expect(t.log).toContain(
      "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc-12",
    );
    expect(t.log.some((c) => / CC=gcc-12 modules /.test(c))).toBe(true);
    expect(r.verified?.loaded).toBe(true);
    await teardownLinuxTarget({ target: "lab", check: false }, { session: t, store, clock: systemClock });
    expect(t.state.extraTools).toEqual([]);
  });

  it("upstream kgdboe sets net.core.gro_normal_batch to 1 and never restores it: setup journals it, teardown restores 8", async () => {
    const upstream = {
      ...SOURCE,
      label: "sysprogs/kgdboe",
      files: [SOURCE.files[0]!, { path: "kgdboe_main.c", content: "/* upstream */\n" }],
    };
    const t = new LinuxTargetModel();
    const store = new MemoryJournalStore();
    const r = await setupLinuxTarget(input({ source: upstream }), { session: t, store, clock: systemClock });
    const ids = r.actions.map((a) => a.id);
    expect(ids.indexOf("net.gro")).toBe(ids.indexOf("module.load") - 1);
    expect(t.state.groNormalBatch).toBe(1);
    const again = await setupLinuxTarget(input({ source: upstream }), { session: t, store, clock: systemClock });
    expect(again.changed).toBe(false);
    await teardownLinuxTarget({ target: "lab", check: false }, { session: t, store, clock: systemClock });
    expect(t.state.groNormalBatch).toBe(8);
    expect(t.state.loaded).toBeNull();
    // the bundled module leaves it alone, so setup does not touch it either
    const b = new LinuxTargetModel();
    const rb = await setupLinuxTarget(input(), { session: b, store: new MemoryJournalStore(), clock: systemClock });
    expect(rb.actions.map((a) => a.id)).not.toContain("net.gro");
    expect(b.state.groNormalBatch).toBe(8);
  });

  it("headers for the running kernel that no package provides (upgraded, not rebooted): E317, nothing left behind", async () => {
    const t = new LinuxTargetModel({ headers: false, aptAvailable: ["linux-headers-6.1.0-99-amd64", "gcc", "make"] });
    const store = new MemoryJournalStore();
    const err = await setupLinuxTarget(input({ installDeps: true }), { session: t, store, clock: systemClock }).catch(
      (e: unknown) => e,
    );
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E317");
    expect((err as Error).message).toContain("linux-headers-6.1.192-kgdb");
    expect(isNetdbgError(err) && err.fix).toMatch(/reboot into the newest installed kernel/);
    expect(t.state.loaded).toBeNull();
    expect(t.leftovers()).toEqual([]);
    expect((await store.load("lab")).entries.filter((e) => e.status === "applied")).toEqual([]);
  });

  it("the default git source: a target that cannot fetch and no host fallback gives E310 naming --kgdboe-source", async () => {
    const t = new LinuxTargetModel();
    const err = await setupLinuxTarget(input({ source: { kind: "git", url: "https://github.com/sysprogs/kgdboe.git" } }), {
      session: t,
      store: new MemoryJournalStore(),
      clock: systemClock,
      hostFetch: async () => {
        throw new Error("fatal: unable to access 'https://github.com/sysprogs/kgdboe.git/': Could not resolve host: github.com");
      },
    }).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E310");
    expect(isNetdbgError(err) && err.fix).toContain("--kgdboe-source");
    expect(isNetdbgError(err) && err.message).toContain("Could not resolve host");
    expect(t.uploads).toEqual([]);
  });
});

describe("upstream binds the NIC's first IPv4 address (#16)", () => {
  it("warns when netdbg reaches the target by another of its own addresses; not through NAT, not when equal", async () => {
    // 192.168.7.2 is eth0's second address: kgdboe listens on the first (10.0.2.15) only
    const t = new LinuxTargetModel({ eth0MoreAddresses: ["192.168.7.2"] });
    const other = await setupLinuxTarget(
      { ...input(), address: "192.168.7.2" },
      { session: t, store: new MemoryJournalStore(), clock: systemClock },
    );
    expect(other.warnings.join("\n")).toMatch(/kgdboe listens on 10\.0\.2\.15:31337 .*not on 192\.168\.7\.2/);
    const t2 = new LinuxTargetModel();
    const same = await setupLinuxTarget(
      { ...input(), address: "10.0.2.15" },
      { session: t2, store: new MemoryJournalStore(), clock: systemClock },
    );
    expect(same.warnings.join("\n")).not.toMatch(/kgdboe listens on/);
    // an address that is not the target's own (a port forward, NAT, the lab's namespace) reaches the first one
    const t3 = new LinuxTargetModel();
    const nat = await setupLinuxTarget(
      { ...input(), address: "192.168.7.2" },
      { session: t3, store: new MemoryJournalStore(), clock: systemClock },
    );
    expect(nat.warnings.join("\n")).not.toMatch(/kgdboe listens on/);
  });
});
