/**
 * --apply-cmdline's GRUB edit for REAL: the probe, the apply scripts, the SFTP upload and the undo run over a REAL
 * OpenSSH sshd on 127.0.0.1 (test/helpers/sshd.ts) as a sudo user, against a TEMP COPY of a grub defaults file
 * (never this machine's /etc/default/grub) with a harmless regenerate command in place of update-grub.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { elevate } from "../../../src/core/remote.js";
import { bootProbe, parseBootProbe, planCmdline } from "../../../src/targets/linux/cmdline.js";
import { LinuxRemote } from "../../../src/targets/linux/remote.js";
import { execute } from "../../../src/targets/linux/setup.js";
import type { LinuxFacts } from "../../../src/targets/linux/types.js";
import { sshdLogin } from "../../helpers/sshd.js";

const PASSWORD = "nd-linux-cmd-pw-1";
const login = sshdLogin("lxcmd", { password: PASSWORD, sudo: "password" });

// Ubuntu 22.04's stock /etc/default/grub (head), with a comment line and no trailing newline quirks
const ORIGINAL = `# If you change this file, run 'update-grub' afterwards to update
GRUB_DEFAULT=0
GRUB_TIMEOUT_STYLE=hidden
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR=\`lsb_release -i -s 2> /dev/null || echo Debian\`
GRUB_CMDLINE_LINUX_DEFAULT="quiet splash"
GRUB_CMDLINE_LINUX="console=ttyS0"
# GRUB_TERMINAL=console
`;

describe("GRUB defaults edit over real sshd (temp copy)", () => {
  it("adds the missing words, keeps mode and every other byte, is idempotent, and undo restores byte for byte", async () => {
    const grub = join(login.dir, "default grub"); // a space: the path must be quoted to work at all
    const backupDir = join(login.dir, "backup");
    const regen = join(login.dir, "regenerated");
    writeFileSync(grub, ORIGINAL);
    execFileSync("chmod", ["640", grub]);
    const s = await login.open();
    try {
      const remote = new LinuxRemote(s, false);
      remote.rootSession = (await elevate(s, { askPassword: async () => PASSWORD })).session;
      const opts = { backupDir, regenerate: `echo regenerated >> ${regen}` };
      const probe = async () => parseBootProbe((await remote.run("probe", bootProbe(grub), { readOnly: true })).stdout, grub);

      const boot = await probe();
      expect(boot.grubDefaults?.text).toBe(ORIGINAL);
      const a = planCmdline(boot, ["nokaslr", "quiet", "rodata=off"], opts)!;
      expect(a.satisfied).toBe(false);
      await execute(remote, a, {} as LinuxFacts);

      const edited = readFileSync(grub, "utf8");
      expect(edited).toBe(ORIGINAL.replace('"console=ttyS0"', '"console=ttyS0 nokaslr rodata=off"'));
      expect(statSync(grub).mode & 0o777).toBe(0o640);
      expect(readFileSync(join(backupDir, `${grub.slice(1).replaceAll("/", "-")}.orig`), "utf8")).toBe(ORIGINAL);
      expect(readFileSync(regen, "utf8")).toBe("regenerated\n");

      const again = planCmdline(await probe(), ["nokaslr", "quiet", "rodata=off"], opts)!;
      expect(again.satisfied).toBe(true);

      await remote.run("undo", a.undo!, { readOnly: false });
      expect(readFileSync(grub, "utf8")).toBe(ORIGINAL);
      expect(statSync(grub).mode & 0o777).toBe(0o640);
      expect(existsSync(backupDir)).toBe(false);
      expect(readFileSync(regen, "utf8")).toBe("regenerated\nregenerated\n");
      // a second undo (an older journal entry) finds no backup and changes nothing
      await remote.run("undo again", a.undo!, { readOnly: false });
      expect(readFileSync(grub, "utf8")).toBe(ORIGINAL);
    } finally {
      await s.close();
    }
  });
});
