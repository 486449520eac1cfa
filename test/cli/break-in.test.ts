/**
 * `connect --break-in sysrq-ssh` (and the inventory's transport.breakIn): a kgdboc-style target ignores bytes
 * while the kernel runs, so netdbg must stop it with SysRq-g over SSH BEFORE the first RSP packet, and collect
 * the SysRq command (which returns only when the kernel resumes) after `detach`. The SSH side is an in-process
 * RemoteSession: running the real command over a real sshd would stop THIS machine's kernel.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createContext } from "../../src/cli/context.js";
import { SYSRQ_G_COMMAND } from "../../src/cli/debugger/break-in.js";
import { parseConnectRequest } from "../../src/cli/connect-options.js";
import { attachLinux } from "../../src/cli/debugger/linux-connect.js";
import type { Target } from "../../src/core/inventory.js";
import type { CommandResult, RemoteSession } from "../../src/core/interfaces.js";
import { UdpKgdbStub } from "../../src/peers/rsp-stub.js";
import { codeOf } from "../helpers/errors.js";
import { captureOutput } from "../helpers/output.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A stub that behaves like kgdb on a serial line: bytes sent while the kernel runs are lost in the tty. Stopped
 * after the test. `target`: "serial" on loopback with the stub's endpoint and the given transport fields.
 */
async function serialStub(transport: NonNullable<Target["transport"]> = {}) {
  const udp = new UdpKgdbStub({ flushSize: 30 });
  const port = await udp.start();
  cleanups.push(() => udp.stop());
  const target: Target = {
    name: "serial",
    os: "linux",
    address: "127.0.0.1",
    transport: { endpoint: `udp:127.0.0.1:${port}`, ...transport },
  };
  const stub = udp.stub;
  stub.running = true;
  let bytesBeforeSysrq = 0;
  let bytesSeen = 0;
  let stopped = false;
  const feed = stub.feed.bind(stub);
  stub.feed = (chunk: Buffer) => {
    bytesSeen += chunk.length;
    if (!stopped) {
      bytesBeforeSysrq += chunk.length;
      return;
    }
    feed(chunk);
  };
  const sysrq = () => {
    stopped = true;
    stub.running = false;
  };
  return { target, stub, sysrq, counts: () => ({ bytesBeforeSysrq, bytesSeen }) };
}

class SysrqSession implements RemoteSession {
  readonly description = "model of a kgdboc target";
  commands: string[] = [];
  closed = false;
  resumedAfterSession = false;
  constructor(
    private readonly onSysrq: () => { stop: () => void; resumed: () => boolean },
    private readonly fail?: CommandResult,
  ) {}
  async exec(command: string): Promise<CommandResult> {
    this.commands.push(command);
    if (this.fail) return this.fail;
    const k = this.onSysrq();
    k.stop();
    // the write to /proc/sysrq-trigger returns once the kernel runs again
    while (!k.resumed()) await new Promise((r) => setTimeout(r, 20));
    this.resumedAfterSession = true;
    return { exitCode: 0, stdout: "", stderr: "" };
  }
  async upload(): Promise<void> {
    throw new Error("not used");
  }
  async download(): Promise<Uint8Array> {
    throw new Error("not used");
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function ctx() {
  const dir = mkdtempSync(join(tmpdir(), "nd-breakin-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return createContext({ stateDir: dir, color: false });
}

describe("connect --break-in sysrq-ssh", () => {
  it("stops the kernel over SSH before the first packet, attaches, detaches, then collects the SysRq command", async () => {
    const s = await serialStub({ breakIn: "sysrq-ssh" });
    const session = new SysrqSession(() => ({
      stop: () => {
        expect(s.counts().bytesSeen).toBe(0); // nothing reached the target before SysRq-g
        s.sysrq();
      },
      resumed: () => s.stub.running,
    }));
    const { out } = captureOutput();
    await attachLinux(ctx(), s.target, parseConnectRequest({ exec: "regs; detach" }), { openSession: async () => session });
    expect(session.commands).toEqual([SYSRQ_G_COMMAND]);
    expect(out.join("")).toMatch(/^rip\s+0xffffffff81001234\s+0xffffffff81001234$/m);
    expect(s.counts().bytesBeforeSysrq).toBe(0);
    expect(s.stub.running).toBe(true); // detached: the kernel runs on
    expect(session.resumedAfterSession).toBe(true);
    expect(session.closed).toBe(true);
  });

  it("a SysRq command that fails (sudo wants a password) is E450, and no packet is sent", async () => {
    const s = await serialStub();
    const session = new SysrqSession(() => ({ stop: () => {}, resumed: () => true }), {
      exitCode: 1,
      stdout: "",
      stderr: "sudo: a password is required\n",
    });
    captureOutput();
    const e = await codeOf(
      attachLinux(ctx(), s.target, parseConnectRequest({ exec: "regs", breakIn: "sysrq-ssh" }), {
        openSession: async () => session,
      }),
    );
    expect(e.code).toBe("NETDBG-E450");
    expect(e.message).toContain("sudo: a password is required");
    expect(s.counts().bytesSeen).toBe(0);
    expect(session.closed).toBe(true);
  });

  it("an unknown --break-in method is a usage error", async () => {
    const target: Target = { name: "t", os: "linux", address: "127.0.0.1" };
    captureOutput();
    const e = await codeOf((async () => attachLinux(ctx(), target, parseConnectRequest({ exec: "regs", breakIn: "nmi" })))());
    expect(e.code).toBe("NETDBG-E003");
  });
});
