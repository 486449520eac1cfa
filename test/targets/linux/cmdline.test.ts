import { describe, expect, it } from "vitest";
import { isNetdbgError } from "../../../src/core/error.js";
import { systemClock } from "../../../src/core/interfaces.js";
import { SUDO_PROBE } from "../../../src/core/remote.js";
import { MemoryJournalStore } from "../../../src/io/journal-store.js";
import {
  bootProbe,
  detectBootloader,
  editGrubDefaults,
  parseBootProbe,
  UneditableLine,
} from "../../../src/targets/linux/cmdline.js";
import { pollProbe } from "../../../src/targets/linux/pollctl.js";
import { PROBE } from "../../../src/targets/linux/probe.js";
import { setupLinuxTarget, teardownLinuxTarget } from "../../../src/targets/linux/setup.js";
import { LinuxTargetModel, KGDB_CONFIG } from "../../../src/peers/linux-target.js";
import { linuxSetupInput } from "../../helpers/linux-facts.js";

const KASLR_CONFIG = KGDB_CONFIG.replace("# CONFIG_RANDOMIZE_BASE is not set", "CONFIG_RANDOMIZE_BASE=y");

// Debian 12's stock /etc/default/grub (head), as shipped by grub2-common
const DEBIAN_GRUB = `# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
# For full documentation of the options in this file, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=\`lsb_release -i -s 2> /dev/null || echo Debian\`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
`;

const input = (check = false) =>
  linuxSetupInput(
    {
      applyCmdline: true,
      source: {
        kind: "files",
        label: "compat",
        files: [
          { path: "Makefile", content: "obj-m := kgdboe.o\n" },
          { path: "kgdboe.c", content: "/* compat */\n" },
        ],
      },
    },
    check,
  );

const deps = (t: LinuxTargetModel, store: MemoryJournalStore) => ({ session: t, store, clock: systemClock });

const READ_ONLY = new Set<string>([
  SUDO_PROBE,
  bootProbe(),
  ...Object.values(PROBE).filter((v): v is string => typeof v === "string"),
  PROBE.route("10.0.2.2"),
  pollProbe(["e1000"]) ?? "",
]);

describe("editGrubDefaults (pure)", () => {
  it("adds only missing words to GRUB_CMDLINE_LINUX and leaves every other byte alone", () => {
    const r = editGrubDefaults(DEBIAN_GRUB, ["nokaslr", "quiet"]);
    expect(r.added).toEqual(["nokaslr"]); // quiet is already in GRUB_CMDLINE_LINUX_DEFAULT
    expect(r.text).toBe(DEBIAN_GRUB.replace('GRUB_CMDLINE_LINUX=""', 'GRUB_CMDLINE_LINUX="nokaslr"'));
    expect(editGrubDefaults(r.text, ["nokaslr"])).toEqual({ added: [], text: r.text });
  });

  it("keeps existing words, uses the last assignment, appends one when there is none", () => {
    const t = "GRUB_CMDLINE_LINUX='a b'\nGRUB_CMDLINE_LINUX=\"console=ttyS0\"\n";
    expect(editGrubDefaults(t, ["nokaslr", "rodata=off"]).text).toBe(
      "GRUB_CMDLINE_LINUX='a b'\nGRUB_CMDLINE_LINUX=\"console=ttyS0 nokaslr rodata=off\"\n",
    );
    expect(editGrubDefaults("GRUB_TIMEOUT=5", ["nokaslr"]).text).toBe('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="nokaslr"\n');
  });

  it("refuses a line with shell expansion instead of guessing", () => {
    expect(() => editGrubDefaults('GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX x"\n', ["nokaslr"])).toThrow(UneditableLine);
  });

  it("detects the bootloader from the probe text", () => {
    const b = (s: string) => detectBootloader(parseBootProbe(s));
    expect(b("tool=update-grub\ngrub_sha256=00\n--- netdbg grub defaults\nX=1\n")).toMatchObject({
      kind: "grub",
      regenerate: "update-grub",
    });
    expect(b('tool=grubby\ngrubby.kernel="/boot/vmlinuz-6"\ngrubby.args="ro quiet"\n')).toEqual({ kind: "grubby" });
    expect(b("tool=bootctl\nsdboot=yes\n")).toEqual({ kind: "unsupported", name: "systemd-boot" });
    expect(parseBootProbe('tool=grubby\ngrubby.kernel="/k"\ngrubby.args="ro quiet"\n').grubby).toEqual([
      { kernel: "/k", args: ["ro", "quiet"] },
    ]);
  });
});

describe("--apply-cmdline against a fake target", () => {
  it("Debian GRUB: backs up, adds nokaslr, runs update-grub; rerun unchanged; teardown restores byte for byte", async () => {
    const t = new LinuxTargetModel({ config: KASLR_CONFIG });
    t.state.boot = { ...t.state.boot, tools: ["update-grub"], files: ["/boot/grub/grub.cfg"], grubDefaults: DEBIAN_GRUB };
    const store = new MemoryJournalStore();
    const r = await setupLinuxTarget(input(), deps(t, store));
    expect(r.actions.at(-1)).toMatchObject({ id: "cmdline.apply", outcome: "changed" });
    expect(t.state.boot.grubDefaults).toContain('GRUB_CMDLINE_LINUX="nokaslr"');
    expect(t.state.boot.regenerated).toEqual(["update-grub"]);
    expect(r.warnings.join("\n")).toMatch(/reboot/);
    expect(r.advice.join("\n")).not.toMatch(/nokaslr/);
    expect(t.leftovers()).toContain("/var/lib/netdbg/cmdline/etc-default-grub.orig");
    // the running kernel is never touched
    expect(t.log.some((c) => /\/proc\/cmdline|kexec|\/sys\/kernel/.test(c) && !READ_ONLY.has(c))).toBe(false);

    const again = await setupLinuxTarget(input(), deps(t, store));
    expect(again.changed).toBe(false);
    expect(again.actions.at(-1)).toMatchObject({ id: "cmdline.apply", outcome: "unchanged" });
    expect(t.state.boot.regenerated).toEqual(["update-grub"]);

    await teardownLinuxTarget({ target: "lab", check: false }, deps(t, store));
    expect(t.state.boot.grubDefaults).toBe(DEBIAN_GRUB);
    expect(t.state.boot.regenerated).toEqual(["update-grub", "update-grub"]);
    expect(t.leftovers()).toEqual([]);
  });

  it("Arch GRUB regenerates with grub-mkconfig; check mode sends only read-only probes", async () => {
    const t = new LinuxTargetModel({ config: KASLR_CONFIG });
    t.state.boot = { ...t.state.boot, tools: ["grub-mkconfig"], files: ["/boot/grub/grub.cfg"], grubDefaults: DEBIAN_GRUB };
    const store = new MemoryJournalStore();
    const chk = await setupLinuxTarget(input(true), deps(t, store));
    expect(t.log.every((c) => READ_ONLY.has(c))).toBe(true);
    expect(chk.actions.at(-1)?.command).toMatch(/grub-mkconfig -o \/boot\/grub\/grub\.cfg$/);
    expect(t.state.boot.grubDefaults).toBe(DEBIAN_GRUB);
    await setupLinuxTarget(input(), deps(t, store));
    expect(t.state.boot.regenerated).toEqual(["grub-mkconfig -o /boot/grub/grub.cfg"]);
    await teardownLinuxTarget({ target: "lab", check: false }, deps(t, store));
    expect(t.state.boot.grubDefaults).toBe(DEBIAN_GRUB);
    expect(t.leftovers()).toEqual([]);
  });

  it("teardown refuses to clobber a grub defaults file edited after setup", async () => {
    const t = new LinuxTargetModel({ config: KASLR_CONFIG });
    t.state.boot = { ...t.state.boot, tools: ["update-grub"], grubDefaults: DEBIAN_GRUB };
    const store = new MemoryJournalStore();
    await setupLinuxTarget(input(), deps(t, store));
    t.state.boot.grubDefaults += "GRUB_TIMEOUT=1\n";
    const err = await teardownLinuxTarget({ target: "lab", check: false }, deps(t, store)).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E017"); // core/apply.ts: an undo failed, teardown resumes
    expect(String((err as Error).message)).toMatch(/changed since netdbg edited it; its original is \/var\/lib\/netdbg/);
    expect(t.state.boot.grubDefaults).toContain("GRUB_TIMEOUT=1\n");
  });

  it("Fedora grubby: --update-kernel=ALL when every kernel lacks it; removes exactly that on teardown", async () => {
    const t = new LinuxTargetModel({ config: KASLR_CONFIG });
    const kernels = () => [
      { kernel: "/boot/vmlinuz-6.5.6-300.fc39.x86_64", args: ["ro", "rhgb", "quiet"] },
      { kernel: "/boot/vmlinuz-6.1.192-kgdb", args: ["ro", "quiet"] },
    ];
    t.state.boot = { ...t.state.boot, tools: ["grubby"], grubby: kernels() };
    const store = new MemoryJournalStore();
    const r = await setupLinuxTarget(input(), deps(t, store));
    expect(t.log).toContain("grubby --update-kernel=ALL --args=nokaslr");
    expect(r.actions.at(-1)?.undo).toBe("grubby --update-kernel=ALL --remove-args=nokaslr");
    expect(t.state.boot.grubby.every((k) => k.args.includes("nokaslr"))).toBe(true);
    expect((await setupLinuxTarget(input(), deps(t, store))).changed).toBe(false);
    await teardownLinuxTarget({ target: "lab", check: false }, deps(t, store));
    expect(t.state.boot.grubby).toEqual(kernels());
  });

  it("grubby: a kernel that already has the word keeps it after teardown", async () => {
    const t = new LinuxTargetModel({ config: KASLR_CONFIG });
    const kernels = () => [
      { kernel: "/boot/vmlinuz-a", args: ["ro", "nokaslr"] },
      { kernel: "/boot/vmlinuz-b", args: ["ro"] },
    ];
    t.state.boot = { ...t.state.boot, tools: ["grubby"], grubby: kernels() };
    const store = new MemoryJournalStore();
    await setupLinuxTarget(input(), deps(t, store));
    expect(t.log).toContain("grubby --update-kernel=/boot/vmlinuz-b --args=nokaslr");
    await teardownLinuxTarget({ target: "lab", check: false }, deps(t, store));
    expect(t.state.boot.grubby).toEqual(kernels());
  });

  it("systemd-boot: a coded stop naming it, before any change", async () => {
    const t = new LinuxTargetModel({ config: KASLR_CONFIG });
    t.state.boot = { ...t.state.boot, tools: ["bootctl"], files: ["/etc/kernel/cmdline"], systemdBoot: true };
    const store = new MemoryJournalStore();
    const err = await setupLinuxTarget(input(), deps(t, store)).catch((e: unknown) => e);
    expect(isNetdbgError(err) && err.code).toBe("NETDBG-E356");
    expect(String((err as Error).message)).toContain("systemd-boot");
    expect(t.log.every((c) => READ_ONLY.has(c))).toBe(true);
    expect((await store.load("lab")).entries).toEqual([]);
  });

  it("nothing to add (no KASLR, x86_64): no cmdline action at all", async () => {
    const t = new LinuxTargetModel();
    t.state.boot = { ...t.state.boot, tools: ["bootctl"], systemdBoot: true };
    const r = await setupLinuxTarget(input(), deps(t, new MemoryJournalStore()));
    expect(r.actions.map((a) => a.id)).not.toContain("cmdline.apply");
  });
});
