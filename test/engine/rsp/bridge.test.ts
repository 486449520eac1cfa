import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RspBridge } from "../../../src/engine/rsp/bridge.js";
import { RspClient } from "../../../src/engine/rsp/client.js";
import { UdpTransport } from "../../../src/engine/transport/udp.js";
import { BANNER, BANNER_ADDR, pattern, TEXT_BASE, UdpKgdbStub } from "../../../src/peers/rsp-stub.js";
import { LossyRelay } from "../../helpers/lossy-relay.js";
import { eventually, gdbBatch, parseInfoRegisters, requireTool } from "../../helpers/tools.js";

/**
 * A stock gdb (`gdb -batch -ex 'target remote 127.0.0.1:PORT'`) through the bridge, to a kgdb-like stub
 * behind a relay that drops 10 % of the datagrams (and duplicates/reorders some): gdb alone over UDP has
 * no retransmission; through the bridge it reads registers and memory correctly and hits a breakpoint.
 */
let dir: string;
beforeAll(() => {
  requireTool("gdb", "gdb");
  dir = mkdtempSync(join(tmpdir(), "rsp-bridge-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("gdb bridge", () => {
  it("serves a stock gdb through a lossy UDP link: registers, memory, breakpoint, detach", async () => {
    const stub = new UdpKgdbStub({
      flushSize: 2048,
      regions: [
        { base: TEXT_BASE, data: pattern(1 << 20) },
        { base: BANNER_ADDR, data: Buffer.concat([Buffer.from(BANNER), Buffer.alloc(64)]) },
      ],
    });
    const stubPort = await stub.start();
    const relay = new LossyRelay({
      target: { host: "127.0.0.1", port: stubPort },
      drop: 0.1,
      duplicate: 0.03,
      reorder: 0.03,
      holdMs: 2,
      seed: 7,
    });
    const relayPort = await relay.start();
    const t = await UdpTransport.open({ kind: "udp", host: "127.0.0.1", port: relayPort });
    const client = new RspClient(t, { timeoutMs: 30, minTimeoutMs: 5 });
    const bridge = new RspBridge(client);
    const port = await bridge.listen(0);
    try {
      const out = join(dir, "text.bin");
      const r = await gdbBatch([
        "-ex",
        "set architecture i386:x86-64",
        "-ex",
        `target remote 127.0.0.1:${port}`,
        "-ex",
        "info registers rip rax rbx eflags",
        "-ex",
        `x/s 0x${BANNER_ADDR.toString(16)}`,
        "-ex",
        `dump binary memory ${out} 0x${TEXT_BASE.toString(16)} 0x${(TEXT_BASE + 0x10000n).toString(16)}`,
        "-ex",
        `break *0x${(TEXT_BASE + 0x400n).toString(16)}`,
        "-ex",
        "continue",
        "-ex",
        "info registers rip",
        "-ex",
        "delete",
        "-ex",
        "detach",
      ]);
      const regs = parseInfoRegisters(r.stdout);
      expect(regs.get("rax"), r.stdout + r.stderr).toBe(0x1111n);
      expect(regs.get("rbx")).toBe(0x2222n);
      expect(r.stdout).toContain(JSON.stringify(BANNER).replace(/\\n/, "\\n"));
      expect(readFileSync(out).equals(pattern(1 << 20).subarray(0, 0x10000))).toBe(true);
      expect(r.stdout, r.stdout + r.stderr).toContain("hit Breakpoint 1");
      const rips = [...r.stdout.matchAll(/^rip\s+(0x[0-9a-f]+)/gm)].map((m) => BigInt(m[1]!));
      expect(rips).toEqual([TEXT_BASE + 0x1234n, TEXT_BASE + 0x400n]);
      expect(r.stdout).toContain("[Inferior 1 (Remote target) detached]");
      // The detach and its final acks cross the lossy link too: wait for the stub to resume rather than a fixed time.
      // What must hold is that the target runs on. The stub's `connected` flag is not asserted: under a loaded
      // machine one run in ~10 ended with it set again after the detach (a datagram of the session reaching the
      // detached stub late, which kgdboe treats as a new attach); the kernel was running either way.
      await eventually(() => stub.stub.running && !stub.stub.connected);
      expect(stub.stub.running).toBe(true);
      expect(relay.stats.dropped).toBeGreaterThan(0);
      expect(bridge.stats.resumes).toBe(1);
      expect(stub.stub.stats.overflows).toBe(0);
      console.log(
        `bridge through 10% loss: ${bridge.stats.packets} gdb packets, client ${JSON.stringify(client.stats)}, relay ${JSON.stringify(relay.stats)}`,
      );
    } finally {
      await bridge.close();
      await client.close();
      await relay.stop();
      await stub.stop();
    }
  }, 120_000);
});
