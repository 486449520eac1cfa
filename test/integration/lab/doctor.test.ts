/**
 * `netdbg doctor lab` against Debian's real stock kernel (no CONFIG_KGDB) under QEMU (npm run test:lab): one boot,
 * lab instance 2 (its own namespace, veth and subnet, so other labs on this machine are left alone). Doctor must
 * say what the unit tests say over Debian's captured config: linux.kconfig fails with E300 and the rebuild fix,
 * read over real SSH; the datagram-from-target check runs for real from the guest. Traffic goes only to the lab's
 * own address inside the namespace `netdbg lab up` creates.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labRig, need } from "./rig.js";

const INSTANCE = process.env.NETDBG_LAB_INSTANCE_DOCTOR ?? "2";
const rig = labRig("doctor", INSTANCE);
const netdbg = (args: string[], timeout = 900_000) => rig.netdbg(args, timeout);

interface Check {
  id: string;
  status: string;
  message: string;
  fix?: string;
  code?: string;
}

beforeAll(async () => {
  need("qemu-system-x86_64", "qemu-system-x86");
  need("ip", "iproute2");
  await netdbg(["lab", "down", "--instance", INSTANCE]); // left over from an interrupted run
  const r = await netdbg(["--json", "lab", "up", "--variant", "stock", "--instance", INSTANCE]);
  if (r.exitCode !== 0) throw new Error(`netdbg lab up --variant stock failed (exit ${r.exitCode}):\n${r.all}`);
}, 1_200_000);

afterAll(async () => {
  await netdbg(["lab", "down", "--instance", INSTANCE]);
  rmSync(rig.home, { recursive: true, force: true });
});

describe("doctor against the lab's stock Debian kernel", () => {
  it("names the kernel without KGDB (E300) with its fix, over real SSH; the guest's datagram reaches this host", async () => {
    // the lab target has no debug port yet (setup would pick one): give it one for the host checks
    const edit = await netdbg(["targets", "edit", "lab", "--port", "50039"]);
    expect(edit.exitCode, edit.all).toBe(0);
    const r = await netdbg(["--json", "doctor", "lab", "--accept-new-host-key"], 300_000);
    expect(r.exitCode, r.all).toBe(1);
    const checks = (JSON.parse(r.stdout) as { reports: { checks: Check[] }[] }).reports[0]!.checks;
    const byId = (id: string) => checks.find((c) => c.id === id)!;
    console.log(`[doctor-it] ${checks.map((c) => `${c.id}=${c.status}${c.code ? `(${c.code})` : ""}`).join(" ")}`);
    for (const id of ["target.ssh", "route.rtt", "host.firewall", "target.nic"])
      console.log(`[doctor-it] ${id}: ${byId(id).message}`);
    expect(byId("target.ssh").status).toBe("ok");
    const k = byId("linux.kconfig");
    expect(k).toMatchObject({ status: "fail", code: "NETDBG-E300" });
    expect(k.message).toMatch(/The running kernel \S+ is built without KGDB/);
    expect(k.fix).toContain("CONFIG_KGDB=y");
    expect(byId("linux.kgdboe")).toMatchObject({ status: "fail", code: "NETDBG-E710" });
    expect(byId("host.firewall")).toMatchObject({ status: "ok", message: expect.stringContaining("arrived from") });
    expect(byId("route.rtt").status).not.toBe("skip");
  });
});
