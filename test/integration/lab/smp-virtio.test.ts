/**
 * A 2-CPU guest with a virtio-net NIC (npm run test:lab): the lab's KGDB kernel (virtio_net built as a module)
 * under QEMU TCG with `--smp 2`, its own lab instance. virtio_net has no ndo_poll_controller, so upstream kgdboe
 * must be refused before anything changes (it would freeze the guest at the first break-in); netdbg's bundled
 * module in multi-core mode (force_single_core=0, both CPUs stay online) must then debug the kernel round after
 * round — break-in, `x/s linux_banner`, a breakpoint hit (ksys_sync, called by a loop on the guest), continue, detach —
 * without a hang, and teardown must restore the guest.
 * NETDBG_LAB_SMP_ROUNDS sets the number of rounds (default 20).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Endpoints, labRig } from "./rig.js";

const rig = labRig("smp", process.env.NETDBG_LAB_INSTANCE_SMP ?? "8");
const ROUNDS = Number(process.env.NETDBG_LAB_SMP_ROUNDS ?? 20);
let e: Endpoints;
let pristine: string;

beforeAll(async () => {
  ({ e, pristine } = await rig.prepare("kgdb", ["--nic", "virtio", "--smp", "2"]));
}, 3_000_000);

afterAll(() => rig.dispose());

describe("a 2-CPU virtio-net guest", () => {
  it("boots with both CPUs and virtio_net loaded as a module", async () => {
    const r = await rig.ssh(e, "cat /sys/devices/system/cpu/online; basename $(readlink /sys/class/net/eth0/device/driver)");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("0-1\nvirtio_net");
    expect(pristine).toContain("cpus: 0-1");
  });

  it("upstream kgdboe is refused (E315: virtio_net has no poll controller); nothing changes and the guest runs on", async () => {
    // a kgdboe source that is not netdbg's bundled module stands for upstream's (which CI cannot fetch)
    const src = mkdtempSync(join(tmpdir(), "nd-upstream-"));
    writeFileSync(join(src, "Makefile"), "obj-m += kgdboe.o\n");
    writeFileSync(join(src, "kgdboe.c"), "/* stands for sysprogs/kgdboe: setup must stop before building it */\n");
    try {
      const r = await rig.netdbg(["--json", "setup", "lab", "--kgdboe-source", src, "--no-connect"], 600_000);
      expect(r.exitCode, r.all).not.toBe(0);
      const err = (JSON.parse(r.stdout) as { error: { code: string; message: string; fix: string } }).error;
      expect(err.code).toBe("NETDBG-E315");
      expect(err.message).toContain("virtio_net");
      expect(err.fix).toContain("--kgdboe-source bundled");
      expect(await rig.snapshot(e)).toBe(pristine);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it(`the bundled module, multi-core: ${ROUNDS} rounds of break-in, x/s, breakpoint hit, continue and detach without a hang; teardown restores`, async () => {
    const s = await rig.netdbg(["--json", "setup", "lab", "--force-single-core", "0", "--no-connect"], 900_000);
    expect(s.exitCode, s.all).toBe(0);
    const j = JSON.parse(s.stdout) as { verified: { loaded: boolean; rsp: { outcome: string } } };
    expect(j.verified.loaded).toBe(true);
    expect(j.verified.rsp.outcome).toBe("verified");
    const cpus = await rig.ssh(e, "cat /sys/devices/system/cpu/online; dmesg | grep -c 'multi-core mode: no driver is hooked'");
    expect(cpus.stdout).toBe("0-1\n1"); // both CPUs stay online: no single-core fallback

    for (let round = 1; round <= ROUNDS; round++) {
      const t0 = Date.now();
      // The breakpoint is on ksys_sync, which one shell loop on the guest calls (one CPU at a time). Not a function
      // both CPUs run (process_one_work): kgdb itself (dbg_remove_all_break() at detach marks the breakpoint
      // undefined, so kgdb_skipexception() no longer recognises it) lets the other CPU's trap, pending on that
      // breakpoint when the debugger detaches, stop the kernel again with no debugger attached.
      const caller = execa(
        "ssh",
        [
          ...["-i", e.ssh.identityFile, "-p", String(e.ssh.port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"],
          ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
          `${e.ssh.user}@${e.ssh.host}`,
          "for i in $(seq 1 240); do sync; sleep 0.5; done",
        ],
        { reject: false, timeout: 180_000 },
      );
      const r = await rig.netdbgChild(
        ["--json", "connect", "lab", "--exec", "x/s linux_banner; break ksys_sync; continue; delete; detach"],
        180_000,
      );
      caller.kill();
      await caller;
      expect(r.exitCode, `round ${round}: ${r.all}`).toBe(0);
      const out = JSON.parse(r.stdout) as { results: { command: string; data: Record<string, unknown> }[] };
      const by = (c: string) => out.results.find((x) => x.command.startsWith(c))!.data;
      expect((by("x/s") as { strings: string[] }).strings[0], `round ${round}`).toContain(e.kernelRelease);
      expect(by("continue"), `round ${round}`).toMatchObject({ signal: 5, symbol: "ksys_sync" });
      expect(by("detach"), `round ${round}`).toEqual({ detached: true });
      // detached: the kernel runs on, on both CPUs, and answers over the same NIC
      const alive = await rig.ssh(e, "cat /sys/devices/system/cpu/online");
      expect(alive.exitCode, `round ${round}: ${alive.stderr}`).toBe(0);
      expect(alive.stdout).toBe("0-1");
      console.log(`[smp-it] round ${round}/${ROUNDS} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    const td = await rig.netdbg(["--json", "teardown", "lab"], 600_000);
    expect(td.exitCode, td.all).toBe(0);
    expect(await rig.snapshot(e)).toBe(pristine);
  }, 3_600_000);
});
