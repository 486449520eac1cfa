/**
 * The probe against a REAL Linux: this machine, through a REAL OpenSSH sshd on 127.0.0.1 (test/helpers/sshd.ts),
 * logged in as a non-root test user that becomes root with a sudo password (core/remote.ts elevate). Every fact
 * is compared with what this machine says directly, so the parsers meet real output, not only fixtures.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { release } from "node:os";
import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import { parseCpuList, probeLinuxTarget } from "../../../src/targets/linux/probe.js";
import { LinuxRemote } from "../../../src/targets/linux/remote.js";
import { setupLinuxTarget } from "../../../src/targets/linux/setup.js";
import { elevate } from "../../../src/core/remote.js";
import { linuxSetupInput } from "../../helpers/linux-facts.js";
import { sshdLogin } from "../../helpers/sshd.js";

const PASSWORD = "nd-linux-pw-1";
const login = sshdLogin("linux", { password: PASSWORD, sudo: "password" });
const USER = login.user;

const sh = (c: string) => execFileSync("sh", ["-c", c], { encoding: "utf8" });

describe("probe a real Linux over real sshd as a sudo user", () => {
  it("reads the same facts this machine reports directly", async () => {
    const s = await login.open();
    try {
      const remote = new LinuxRemote(s, true);
      let asked = 0;
      const e = await elevate(s, {
        askPassword: async () => {
          asked++;
          return PASSWORD;
        },
      });
      remote.rootSession = e.session;
      const f = await probeLinuxTarget(remote, { sudo: e.mode });
      expect(asked).toBe(1);
      expect(f.sudo).toBe("password");
      expect(f.user.name).toBe(USER);
      expect(f.sshClientIp).toBe("127.0.0.1");
      expect(f.kernel.release).toBe(release());
      expect(f.kernel.arch).toBe(sh("uname -m").trim());
      expect(f.os.family).toBe("debian");
      const ifaces = sh("ls /sys/class/net").trim().split(/\s+/).sort();
      expect(f.nics.map((n) => n.name).sort()).toEqual(ifaces);
      expect(f.nics.find((n) => n.name === "lo")).toMatchObject({
        ipv4: "127.0.0.1",
        flags: expect.arrayContaining(["loopback"]),
      });
      // the route to the SSH client (this host, 127.0.0.1) goes through lo
      expect(f.route).toMatchObject({ to: "127.0.0.1", dev: "lo" });
      // root's view of kallsyms (the test user could not read it without sudo)
      const addr = sh("awk '$3==\"kallsyms_lookup_name\"{print $1; exit}' /proc/kallsyms").trim();
      if (addr && !/^0+$/.test(addr)) expect(f.kallsyms.address).toBe(`0x${addr}`);
      const source = existsSync(`/boot/config-${release()}`) ? `/boot/config-${release()}` : "/proc/config.gz";
      expect(f.config.source).toBe(source);
      const kgdb = sh(
        `(cat /boot/config-${release()} 2>/dev/null || zcat /proc/config.gz) | grep -E '^(# )?CONFIG_KGDB[ =]'`,
      ).trim();
      expect(f.config.cfg.options.KGDB).toBe(kgdb === "CONFIG_KGDB=y" ? "y" : "n");
      expect(f.cpusOnline).toEqual(parseCpuList(sh("cat /sys/devices/system/cpu/online")));
      expect(f.cpusOnline.length).toBe(Number(sh("getconf _NPROCESSORS_ONLN").trim()));
      // check mode: every command sent was a read-only one
      expect(remote.transcript.every((t) => t.readOnly)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it("setup against this machine (a kernel without KGDB) stops with a coded error and changes nothing", async () => {
    const kgdb = sh(
      `(cat /boot/config-${release()} 2>/dev/null || zcat /proc/config.gz) | grep -c '^CONFIG_KGDB=y' || true`,
    ).trim();
    const s = await login.open();
    try {
      const store = new MemoryJournalStore();
      const err = await setupLinuxTarget(
        linuxSetupInput({ source: { kind: "files", label: "x", files: [{ path: "Makefile", content: "" }] } }, false, "self"),
        { session: s, store, clock: systemClock, sudoPassword: async () => PASSWORD },
      ).catch((e: unknown) => e);
      expect(isNetdbgError(err)).toBe(true);
      if (kgdb === "0") {
        expect(isNetdbgError(err) && err.code).toBe("NETDBG-E300");
        expect(isNetdbgError(err) && err.message).toContain(release());
      }
      expect(existsSync("/var/lib/netdbg/kgdboe")).toBe(false);
      expect((await store.load("self")).entries).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
