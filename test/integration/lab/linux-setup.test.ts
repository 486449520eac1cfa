/**
 * `netdbg setup|teardown lab` against real kernels under QEMU (npm run test:lab): Debian's stock kernel (no
 * CONFIG_KGDB) and the lab's self-built KGDB kernel, over real SSH, with the kgdboe-compatible module from
 * assets/kgdboe-compat uploaded by SFTP and built by kbuild inside the guest. Traffic goes only to the lab's
 * own address inside the namespace `netdbg lab up` creates.
 *
 * The SSH cut is real: the netdbg process is SIGKILLed while its journal shows the kbuild step running, so the
 * TCP connection dies mid-command; the rerun must converge.
 */
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, COMPAT, type Endpoints, labRig } from "./rig.js";

// Inventory, journals, lab state and known_hosts in a throwaway home; the lab's artifact cache stays shared.
// Its own lab instance (namespace, veth, /30), so labs others run on this machine are left alone.
const rig = labRig("linux", process.env.NETDBG_LAB_INSTANCE_LINUX ?? "4");
const { home, env, netdbgChild, netdbg, ssh, snapshot, up } = rig;
const journalFile = rig.journalFile("lab");

// no flags: the lab's inventory entry names its known_hosts and the kgdboe-compatible module shipped in assets/
const setupArgs = ["setup", "lab"];

beforeAll(() => rig.build(), 3_000_000);

afterAll(() => rig.dispose());

describe("setup lab, stock Debian kernel (no CONFIG_KGDB)", () => {
  let e: Endpoints;
  beforeAll(async () => {
    e = await up("stock");
  }, 900_000);
  afterAll(async () => {
    await netdbg(["lab", "down"]);
  });

  it("stops with the no-KGDB error and changes nothing", async () => {
    const before = await snapshot(e);
    const r = await netdbg(["--json", ...setupArgs]);
    expect(r.exitCode, r.all).toBe(1);
    const err = JSON.parse(r.stdout) as { error: { code: string; message: string; fix: string } };
    expect(err.error.code).toBe("NETDBG-E300");
    expect(err.error.message).toContain(e.kernelRelease);
    expect(err.error.fix).toMatch(/CONFIG_KGDB=y/);
    expect(await snapshot(e)).toBe(before);
    expect(
      existsSync(journalFile) ? (JSON.parse(readFileSync(journalFile, "utf8")) as { entries: unknown[] }).entries : [],
    ).toEqual([]);
  });
});

describe("setup lab, KGDB kernel", () => {
  let e: Endpoints;
  let pristine: string;
  beforeAll(async () => {
    e = await up("kgdb");
    pristine = await snapshot(e);
  }, 900_000);

  it("--check prints every command and runs none of the changing ones", async () => {
    const r = await netdbg([...setupArgs, "--check"]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain("Read-only probe commands sent to lab");
    expect(r.stdout).toMatch(/would run\] Build kgdboe against \S+-kgdb with kbuild/);
    expect(r.stdout).toMatch(
      /insmod \/var\/lib\/netdbg\/kgdboe\/src\/kgdboe\.ko device_name=eth0 udp_port=31337 kallsyms_lookup_name_address=0xffffffff[0-9a-f]{8} force_single_core=1/,
    );
    expect(await snapshot(e)).toBe(pristine);
  });

  it("uploads, builds with kbuild in the guest, loads with computed parameters and verifies from dmesg", async () => {
    const r = await netdbg(["--json", ...setupArgs]);
    expect(r.exitCode, r.all).toBe(0);
    const j = JSON.parse(r.stdout) as {
      changed: boolean;
      nic: string;
      kallsymsAddress: string;
      actions: { id: string; outcome: string }[];
      verified: {
        loaded: boolean;
        udpTarget: { host: string; port: number };
        rsp: { outcome: string; endpoint: string; bytesOut: number; bytesIn: number; diagnosis: string };
      };
      warnings: string[];
    };
    expect(j.changed).toBe(true);
    // the RSP check from this host really ran against the loaded module: break-in, registers, detach
    expect(j.verified.rsp.outcome, JSON.stringify(j.verified.rsp)).toBe("verified");
    expect(j.verified.rsp.endpoint).toMatch(new RegExp(`^udp:${e.ssh.host.replace(/\./g, "\\.")}:31337(@\\d+)?$`));
    expect(j.verified.rsp.bytesIn).toBeGreaterThan(100);
    expect(j.warnings.join("\n")).not.toMatch(/NETDBG-E358|NETDBG-E359/);
    expect(j.nic).toBe("eth0");
    expect(j.verified.loaded).toBe(true);
    expect(j.verified.udpTarget.port).toBe(31337);
    expect(j.actions.filter((a) => a.outcome === "changed").map((a) => a.id)).toEqual(
      expect.arrayContaining(["source.upload", "module.build", "module.load"]),
    );
    const g = await ssh(
      e,
      "cat /sys/module/kgdboe/parameters/device_name; grep -w kallsyms_lookup_name /proc/kallsyms | awk '$3==\"kallsyms_lookup_name\"{print $1}'; dmesg | grep -E 'kgdboe|target remote'",
    );
    expect(g.stdout).toContain("eth0\n");
    expect(j.kallsymsAddress).toBe(`0x${g.stdout.split("\n")[1]}`);
    expect(g.stdout).toContain("kgdboe: Successfully initialized");
    console.log(`[linux-it] guest dmesg after setup:\n${g.stdout}`);
  });

  it("a second run reports unchanged", async () => {
    const r = await netdbg(["--json", ...setupArgs]);
    expect(r.exitCode, r.all).toBe(0);
    const j = JSON.parse(r.stdout) as { changed: boolean; actions: { outcome: string }[] };
    expect(j.changed).toBe(false);
    expect(j.actions.every((a) => a.outcome === "unchanged")).toBe(true);
  });

  it("connect lab: RSP over UDP through the loaded kgdboe; a real gdb reads the same registers and memory in the same stop", async () => {
    const ours = join(home, "netdbg-text.bin");
    const r = await netdbg(
      [
        ...["--json", "connect", "lab", "--exec"],
        `x/s linux_banner; break process_one_work; continue; bt 3; delete; regs; dump _text 65536 ${ours}; disconnect`,
      ],
      300_000,
    );
    // netdbg disconnected without detaching: the kernel is still stopped, and a real gdb attaches to that stop
    // (and detaches, so the kernel runs on) BEFORE anything is asserted: a failed expectation must not leave
    // the lab's kernel stopped for the tests after this one
    const theirs = join(home, "gdb-text.bin");
    const text = "0xffffffff81000000"; // _text of the lab's nokaslr x86_64 kernel; checked against netdbg's dump below
    const g = await execa(
      "gdb",
      [
        ...["-q", "-batch", "-nx", e.vmlinux!, "-ex", "set remotetimeout 20"],
        ...["-ex", `target remote udp:${e.ssh.host}:31337`, "-ex", "info registers"],
        ...["-ex", `dump binary memory ${theirs} ${text} ${text}+65536`, "-ex", "detach"],
      ],
      { reject: false, timeout: 300_000, all: true },
    );
    expect(r.exitCode, r.all).toBe(0);
    const j = JSON.parse(r.stdout) as { endpoint: string; results: { command: string; data: Record<string, unknown> }[] };
    expect(j.endpoint).toMatch(new RegExp(`^udp:${e.ssh.host.replace(/\./g, "\\.")}:31337(@\\d+)?$`));
    const by = (c: string) => j.results.find((x) => x.command.startsWith(c))!.data;
    expect((by("x/s") as { strings: string[] }).strings[0]).toContain(e.kernelRelease);
    expect(by("continue")).toMatchObject({ signal: 5, symbol: "process_one_work" });
    expect((by("bt") as { frames: { symbol?: string }[] }).frames[1]?.symbol).toMatch(/^(worker_thread|rescuer_thread)\+0x/);
    expect((by("dump") as { address: string }).address).toBe(text);
    const regs = by("regs") as Record<string, string>;
    expect(g.exitCode, g.all).toBe(0);
    const gdbRegs = new Map<string, bigint>();
    for (const m of g.stdout.matchAll(/^(\w+)\s+(0x[0-9a-f]+)/gm)) gdbRegs.set(m[1]!, BigInt(m[2]!));
    for (const n of "rax rbx rcx rdx rsi rdi rbp rsp r8 r9 r10 r11 r12 r13 r14 r15 rip eflags cs ss".split(" ")) {
      expect({ n, v: BigInt(regs[n]!) }, g.all).toEqual({ n, v: gdbRegs.get(n) });
    }
    expect(readFileSync(ours).equals(readFileSync(theirs))).toBe(true);
    // gdb detached: the kernel runs on
    const after = await ssh(e, "cat /proc/uptime");
    expect(after.exitCode, after.stderr).toBe(0);
  });

  it("teardown of a kernel left stopped in the debugger detaches it over kgdboe, then leaves the target as it found it", async () => {
    // a break-in nobody resumed: the guest's network stack stops with the kernel, so SSH gets no answer at all
    const stop = await netdbg(["connect", "lab", "--exec", "disconnect"], 300_000);
    expect(stop.exitCode, stop.all).toBe(0);
    const r = await netdbg(["--json", "teardown", "lab", "--accept-new-host-key"], 600_000);
    expect(r.exitCode, r.all).toBe(0);
    expect((JSON.parse(r.stdout) as { resumed?: string }).resumed).toMatch(/kernel was stopped in the debugger/);
    expect(await snapshot(e)).toBe(pristine);
    expect(existsSync(journalFile)).toBe(false);
  });

  it("--persist: the systemd unit loads kgdboe with this boot's kallsyms address; teardown removes it", async () => {
    const r = await netdbg([...setupArgs, "--persist"]);
    expect(r.exitCode, r.all).toBe(0);
    const en = await ssh(e, "systemctl is-enabled netdbg-kgdboe.service; cat /etc/netdbg/kgdboe.env");
    expect(en.stdout).toMatch(/^enabled\n/);
    expect(en.stdout).toContain("KGDBOE_DEVICE=eth0");
    // the lab kernel boots with kgdboc=ttyS1 on its command line: the loader must take KGDB back from it
    expect(en.stdout).toContain("KGDBOE_RELEASE_KGDBOC=1");
    // what a boot does: kgdboc (from the command line) holds KGDB, then the unit runs the loader, which reads
    // kallsyms, releases kgdboc and loads the module
    const run = await ssh(
      e,
      "rmmod kgdboe && printf 'ttyS1,115200\\n' > /sys/module/kgdboc/parameters/kgdboc && systemctl start netdbg-kgdboe.service && cat /sys/module/kgdboe/parameters/device_name && echo \"kgdboc=[$(cat /sys/module/kgdboc/parameters/kgdboc)]\"",
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe("eth0\nkgdboc=[]"); // execa drops the final newline
    const td = await netdbg(["teardown", "lab"]);
    expect(td.exitCode, td.all).toBe(0);
    expect(await snapshot(e)).toBe(pristine);
  });

  it("an SSH connection cut in the middle of apply, then a rerun, converges; teardown restores", async () => {
    const child = netdbgChild(setupArgs);
    const t0 = Date.now();
    let cut = false;
    while (Date.now() - t0 < 600_000) {
      await new Promise((r) => setTimeout(r, 200));
      if (!existsSync(journalFile)) continue;
      const j = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: { id: string; status: string }[] };
      if (j.entries.some((x) => x.id === "module.build" && x.status === "pending")) {
        child.kill("SIGKILL");
        cut = true;
        break;
      }
    }
    await child;
    expect(cut).toBe(true);
    const pending = (JSON.parse(readFileSync(journalFile, "utf8")) as { entries: { id: string; status: string }[] }).entries;
    expect(pending.find((x) => x.id === "module.build")?.status).toBe("pending");

    const again = await netdbg(["--json", ...setupArgs]);
    expect(again.exitCode, again.all).toBe(0);
    expect((JSON.parse(again.stdout) as { verified: { loaded: boolean } }).verified.loaded).toBe(true);
    const third = await netdbg(["--json", ...setupArgs]);
    expect((JSON.parse(third.stdout) as { changed: boolean }).changed).toBe(false);

    const td = await netdbg(["teardown", "lab"]);
    expect(td.exitCode, td.all).toBe(0);
    expect(await snapshot(e)).toBe(pristine);
  });

  it("after teardown kgdboc holds KGDB again: connect --endpoint <kgdboc> --break-in sysrq-ssh, then the kernel runs on", async () => {
    const r = await netdbg(
      [
        ...["--json", "connect", "lab", "--endpoint", `udp:${e.kgdboc.host}:${e.kgdboc.port}`, "--break-in", "sysrq-ssh"],
        ...["--exec", "regs; x/s linux_banner; detach"],
      ],
      300_000,
    );
    expect(r.exitCode, r.all).toBe(0);
    const j = JSON.parse(r.stdout) as { results: { command: string; data: Record<string, unknown> }[] };
    const by = (c: string) => j.results.find((x) => x.command.startsWith(c))!.data;
    expect((by("x/s") as { strings: string[] }).strings[0]).toContain(e.kernelRelease);
    expect(by("detach")).toEqual({ detached: true });
    const after = await ssh(e, "cat /proc/uptime");
    expect(after.exitCode, after.stderr).toBe(0);
  });

  it("a non-root user with passwordless sudo: setup loads and verifies over 'sudo -n', teardown restores", async () => {
    const user = "ndnopw";
    await addSudoUser(e, user, "NOPASSWD: ALL");
    await addUserTarget(e, "lab-nopw", user);
    // a target of its own: its host key goes to ~/.ssh/known_hosts (the lab entry uses the lab's own file)
    const r = await netdbg([
      "--json",
      "setup",
      "lab-nopw",
      "--accept-new-host-key",
      "--kgdboe-source",
      COMPAT,
      "--no-rsp-verify",
    ]);
    expect(r.exitCode, r.all).toBe(0);
    const j = JSON.parse(r.stdout) as { changed: boolean; verified: { loaded: boolean }; commands: { command: string }[] };
    expect(j.changed).toBe(true);
    expect(j.verified.loaded).toBe(true);
    // the module really went in as root through sudo, on behalf of the login user
    const who = await ssh(e, `cat /sys/module/kgdboe/parameters/device_name; stat -c %U /var/lib/netdbg/kgdboe/src/kgdboe.ko`);
    expect(who.stdout).toBe("eth0\nroot");
    const again = await netdbg(["--json", "setup", "lab-nopw", "--kgdboe-source", COMPAT, "--no-rsp-verify"]);
    expect((JSON.parse(again.stdout) as { changed: boolean }).changed).toBe(false);
    const td = await netdbg(["teardown", "lab-nopw"]);
    expect(td.exitCode, td.all).toBe(0);
    expect(await snapshot(e)).toBe(pristine);
  });

  it("a non-root user whose sudo asks a password: asked once on the terminal, never shown or logged; teardown restores", async () => {
    const user = "ndpw";
    const password = `pw-${randomBytes(9).toString("hex")}`;
    await addSudoUser(e, user, "ALL", password);
    await addUserTarget(e, "lab-pw", user);
    // without a terminal there is no one to ask: a clear error, nothing changed
    const batch = await netdbg([
      "--json",
      "setup",
      "lab-pw",
      "--accept-new-host-key",
      "--kgdboe-source",
      COMPAT,
      "--no-rsp-verify",
    ]);
    expect(batch.exitCode, batch.all).not.toBe(0);
    expect((JSON.parse(batch.stdout) as { error: { code: string } }).error.code).toBe("NETDBG-E811");
    expect(await snapshot(e)).toBe(pristine);

    // in a terminal (a real pty via script(1)): the masked prompt takes the password; --verbose logs every command
    // --no-connect: on a terminal setup would hand off to the debugger REPL; this test is about sudo
    const setup = await inTerminal(
      ["--verbose", "setup", "lab-pw", "--kgdboe-source", COMPAT, "--no-rsp-verify", "--no-connect"],
      password,
    );
    expect(setup.exitCode, setup.output).toBe(0);
    expect(setup.prompts).toBe(1); // asked, and asked only once (a second prompt would hang until the timeout)
    // --no-rsp-verify: loaded, and never called "verified" without an answer over RSP
    expect(setup.output).toContain("lab-pw: kgdboe loaded; the kernel log says it is ready, not checked over RSP");
    expect(setup.output).not.toContain("loaded and verified");
    expect(setup.output).toMatch(/sudo -S -k -p '' -- sh -c|run \[/); // the debug log of commands really was on
    expect(setup.output).not.toContain(password);
    const loaded = await ssh(e, "cat /sys/module/kgdboe/parameters/udp_port");
    expect(loaded.stdout).toBe("31337");
    const journal = join(home, "data/netdbg/journals/lab-pw.json");
    expect(readFileSync(journal, "utf8")).not.toContain(password);
    // nor anywhere on the target netdbg wrote to, nor in the target's logs
    const leak = await ssh(
      e,
      `grep -rlF -- '${password}' /var/lib/netdbg /etc/netdbg /tmp /var/log /home/${user} 2>/dev/null; journalctl --no-pager 2>/dev/null | grep -cF -- '${password}'`,
    );
    expect(leak.stdout.trim()).toBe("0");

    const td = await inTerminal(["--verbose", "teardown", "lab-pw"], password);
    expect(td.exitCode, td.output).toBe(0);
    expect(td.output).not.toContain(password);
    expect(await snapshot(e)).toBe(pristine);
  });
});

/** As root: a user with the suite's key in authorized_keys and a sudoers rule (and a password when given). */
async function addSudoUser(e: Endpoints, user: string, rule: string, password?: string): Promise<void> {
  const script = [
    `id ${user} >/dev/null 2>&1 || useradd -m -s /bin/sh ${user}`,
    `install -d -m 700 -o ${user} -g ${user} /home/${user}/.ssh`,
    `install -m 600 -o ${user} -g ${user} /root/.ssh/authorized_keys /home/${user}/.ssh/authorized_keys`,
    `printf '%s\\n' '${user} ALL=(ALL) ${rule}' > /etc/sudoers.d/${user}`,
    `chmod 440 /etc/sudoers.d/${user}`,
    "visudo -c >/dev/null",
    ...(password ? ["chpasswd"] : []),
  ].join(" && ");
  const r = await ssh(e, script, password ? `${user}:${password}\n` : "");
  expect(r.exitCode, r.stderr).toBe(0);
}

async function addUserTarget(e: Endpoints, name: string, user: string): Promise<void> {
  const r = await netdbg([
    ...["targets", "add", name, "--os", "linux", "--address", e.ssh.host, "--nic", "eth0"],
    ...["--ssh-user", user, "--ssh-port", String(e.ssh.port), "--identity-file", e.ssh.identityFile],
  ]);
  expect(r.exitCode, r.all).toBe(0);
}

/**
 * Run netdbg on a real pseudo-terminal (script(1) from util-linux) and type the password at each sudo
 * prompt; returns everything the terminal showed (stdout and stderr, as a user would see them).
 */
async function inTerminal(args: string[], password: string): Promise<{ exitCode: number; output: string; prompts: number }> {
  const cmd = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  // a new pty has no size: give it one, as a terminal window would
  const child = execa("script", ["-qfec", `stty cols 120 rows 40; exec ${cmd}`, "/dev/null"], {
    env: { ...env, TERM: "xterm" },
    reject: false,
    timeout: 900_000,
    stdin: "pipe",
    all: true,
  });
  let output = "";
  let prompts = 0;
  child.all?.on("data", (d: Buffer) => {
    output += d.toString("utf8");
    // answer once: the prompt redraws as it is typed into, and netdbg must never ask twice (it would hang here)
    if (prompts === 0 && output.includes("sudo password on the target")) {
      prompts = 1;
      child.stdin?.write(`${password}\r`);
    }
  });
  const r = await child;
  return { exitCode: r.exitCode ?? -1, output, prompts };
}
