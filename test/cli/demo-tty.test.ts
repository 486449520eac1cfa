/**
 * `netdbg demo` on a terminal: the built CLI under a pseudo-terminal (util-linux `script`), so stdin and stdout are
 * TTYs as for a person. The demo sets both targets up, then leaves the user at a debugger prompt showing the kernel
 * version and registers; the test types commands there like a person would, then leaves, and the demo tears down.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { KERNEL_BASE } from "../../src/peers/kdnet-target/index.js";
import { BANNER } from "../../src/peers/rsp-stub.js";
import { tempHome } from "../helpers/cli.js";
import { requireTool } from "../helpers/tools.js";

const BIN = new URL("../../bin/netdbg.js", import.meta.url).pathname;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

/** The demo under a pseudo-terminal; `screen()` is everything it printed so far (ANSI codes removed). */
function demoOnTty(args: string[]) {
  requireTool("script", "bsdutils");
  const cmd = [process.execPath, BIN, "demo", ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qfec", cmd, "/dev/null"], {
    env: { ...process.env, NETDBG_HOME: tempHome("nd-demo-tty-"), NO_COLOR: "1", TERM: "dumb", CI: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.push(child);
  let seen = "";
  const waiters: { re: RegExp; from: number; resolve: () => void }[] = [];
  const on = (d: Buffer) => {
    seen += d.toString().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    for (const w of [...waiters]) {
      if (w.re.test(seen.slice(w.from))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on("data", on);
  child.stderr!.on("data", on);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    screen: () => seen,
    /** Wait for `re` in what is printed after this call (or fail with the screen so far). */
    waitFor(re: RegExp, ms = 60_000): Promise<void> {
      const from = seen.length;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; screen:\n${seen}`)), ms);
        waiters.push({
          re,
          from,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
        on(Buffer.alloc(0));
      });
    },
    /** Wait for `re` anywhere on the screen so far. */
    seen(re: RegExp, ms = 60_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; screen:\n${seen}`)), ms);
        waiters.push({
          re,
          from: 0,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
        on(Buffer.alloc(0));
      });
    },
    type: (line: string) => child.stdin!.write(`${line}\r`),
    exited,
  };
}

describe("netdbg demo on a terminal", { timeout: 120_000 }, () => {
  it("--os linux: the (netdbg) prompt after the banner and registers; 'regs' then 'quit' detaches and tears down", async () => {
    const d = demoOnTty(["--os", "linux"]);
    await d.seen(/\(netdbg\) $/m);
    const before = d.screen();
    expect(before).toContain(BANNER.trimEnd());
    expect(before).toMatch(/rip +0xffffffff81001234/);
    d.type("regs");
    await d.waitFor(/rax +0x0000000000001111[\s\S]*\(netdbg\) /);
    d.type("quit");
    expect(await d.exited).toBe(0);
    const s = d.screen();
    expect(s).toContain("demo: teardown demo-win and demo-linux");
    expect(s).toContain("both targets are as they were");
  });

  it("default (windows): the kd> prompt after the version and registers; 'lm' then 'q' resumes the target and tears down", async () => {
    const d = demoOnTty([]);
    await d.seen(/kd> $/m);
    const before = d.screen();
    expect(before).toContain(`Kernel base = 0x${KERNEL_BASE.toString(16)}`);
    expect(before).toContain("rax=0000000000001111");
    expect(before).toContain("netdbg demo --os linux"); // how to reach the other prompt
    d.type("lm");
    await d.waitFor(/ntoskrnl[\s\S]*kd> /);
    d.type("q");
    expect(await d.exited).toBe(0);
    const s = d.screen();
    expect(s).toContain("breakpoints removed; the target runs on");
    expect(s).toContain("both targets are as they were");
  });
});
