/** The CLI commands of the KDNET engine: kdnet decode / listen, windbg, connect (Windows), run in-process. */
import { fileURLToPath } from "node:url";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseKdnetKey } from "../../src/core/kdnet-key.js";
import { openUdp } from "../../src/engine/kdnet/udp.js";
import { InventoryStore } from "../../src/io/inventory-store.js";
import { resolvePaths } from "../../src/io/paths.js";
import { FileSecretStore } from "../../src/io/secret-store.js";
import { BULK_BASE, bulkByte, KERNEL_BASE, KdnetTargetPeer } from "../../src/peers/kdnet-target/index.js";
import { runMain } from "../helpers/main.js";
import { freeUdpPort } from "../helpers/ports.js";

const FIX = fileURLToPath(new URL("../fixtures/kdnet", import.meta.url));
const KEY = "1a2b3c.4d5e6f.7g8h9i.0j1k2l";
let dir: string;
let port: number;

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout: out, stderr: err } = await runMain(["--state-dir", dir, ...args]);
  return { code, out, err };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kdnet-cli-"));
  port = await freeUdpPort({ debug: true, address: "0.0.0.0" });
  const paths = resolvePaths(dir);
  await new InventoryStore(paths.inventory).update((inv) => {
    inv.targets.push({ name: "win1", os: "windows", address: "127.0.0.1", port });
    inv.targets.push({ name: "lin1", os: "linux", address: "127.0.0.1" });
    inv.targets.push({ name: "win2", os: "windows", address: "127.0.0.9", port: port + 1 });
    inv.targets.push({ name: "win3", os: "windows", address: "127.0.0.1", port: port + 2, transport: { hostIp: "127.0.0.2" } });
  });
  await new FileSecretStore(paths.keys).set("win1", KEY);
  await new FileSecretStore(paths.keys).set("win2", KEY);
  await new FileSecretStore(paths.keys).set("win3", KEY);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const peers: KdnetTargetPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) await p.close();
});

async function startPeer(key = KEY, extra: { stopAtBoot?: string } = {}): Promise<KdnetTargetPeer> {
  const t = await openUdp({ port: 0, address: "127.0.0.1" });
  const peer = new KdnetTargetPeer({
    transport: t,
    key: parseKdnetKey(key),
    host: { address: "127.0.0.1", port },
    pokeIntervalMs: 100,
    retransmitMs: 100,
    bulkSize: 64 * 1024,
    ...extra,
  });
  peers.push(peer);
  peer.start();
  return peer;
}

describe("netdbg kdnet decode", () => {
  it("prints JSON Lines with the documented fields for capture 1", async () => {
    const r = await run(["--json", "kdnet", "decode", "--key", "8.8.8.8", `${FIX}/windbg-uncut.pcapng.gz`]);
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(956);
    expect(lines[0]).toMatchObject({
      frame: 1,
      channel: "control",
      seq: 3,
      direction: "target-to-host",
      authenticated: true,
      control: { kind: "poke" },
    });
    expect(lines[1]).toMatchObject({ frame: 2, control: { kind: "response" }, direction: "host-to-target" });
    const kd = lines.find((l) => l.frame === 10);
    expect(kd.kd).toMatchObject({ type: 2, id: 0x80000000, byteCount: 56, checksumOk: true, api: "GetVersion" });
    expect(typeof kd.kd.id).toBe("number");
    expect(lines.at(-1)).toEqual({
      // 526: frame 3 (the post-handshake hello) carries no KD packet leader and is not counted as a KD packet
      summary: expect.objectContaining({ datagrams: 955, authenticated: 955, failed: 0, kdPackets: 526, kdChecksumOk: 526 }),
    });
    expect(r.out).not.toContain("8.8.8.8");
  });

  it("decodes capture 2: pokes authenticate, data channel reported as not decryptable, exit 0", async () => {
    const r = await run(["kdnet", "decode", "--key", "1.2.3.4", `${FIX}/aeroctf2021-kek.pcap`]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/704 KDNET datagrams \(protocol version 5\): 10 authenticated/);
    expect(r.out).toMatch(/cannot be decrypted/);
    expect(r.out).toMatch(/poke/);
  });

  it("exits 1 when nothing authenticates (wrong key), still listing every datagram", async () => {
    const r = await run(["kdnet", "decode", "--key", "1.2.3.5", `${FIX}/aeroctf2021-kek.pcap`]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/704 KDNET datagrams .*: 0 authenticated, 704 not/);
    expect(r.out).toMatch(/failed authentication: wrong key/);
  });

  it("fails with a coded error on a file that is not a capture", async () => {
    const r = await run(["--json", "kdnet", "decode", "--key", "8.8.8.8", `${FIX}/README.md`]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error.code).toBe("NETDBG-E500");
  });
});

describe("netdbg kdnet decode on a capture without KDNET", () => {
  it("reports E501 for UDP that is not KDNET (a classic pcap, raw IPv4 link type)", async () => {
    const gh = Buffer.alloc(24);
    gh.writeUInt32LE(0xa1b2c3d4, 0);
    gh.writeUInt16LE(2, 4);
    gh.writeUInt16LE(4, 6);
    gh.writeUInt32LE(65535, 16);
    gh.writeUInt32LE(101, 20); // LINKTYPE_RAW
    const ip = Buffer.alloc(20 + 8 + 4);
    ip[0] = 0x45;
    ip.writeUInt16BE(ip.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    ip.writeUInt16BE(1234, 20);
    ip.writeUInt16BE(50000, 22);
    ip.writeUInt16BE(12, 24);
    ip.write("ping", 28);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(ip.length, 8);
    rec.writeUInt32LE(ip.length, 12);
    const file = join(dir, "plain.pcap");
    await writeFile(file, Buffer.concat([gh, rec, ip]));
    const r = await run(["kdnet", "decode", "--key", "8.8.8.8", file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/holds 1 UDP datagram\(s\) but none is KDNET.*NETDBG-E501/s);
  });
});

describe("netdbg kdnet listen", () => {
  it("reports that nobody pokes (exit 1)", async () => {
    const r = await run(["--json", "kdnet", "listen", String(port), "--seconds", "0.3"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ port, targets: [], wrongKey: false });
  });

  it("reports the poking target and that the key authenticates", async () => {
    await startPeer();
    const r = await run(["--json", "kdnet", "listen", String(port), "--key", KEY, "--seconds", "5"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.targets[0]).toMatchObject({ address: "127.0.0.1", version: 5, authenticated: true });
    expect(j.wrongKey).toBe(false);
  });

  it("says 'wrong key' within one poke", async () => {
    const peer = await startPeer("1.2.3.4");
    const r = await run(["kdnet", "listen", String(port), "--target", "win1", "--seconds", "5"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/WRONG KEY/);
    expect(r.err).toMatch(/NETDBG-E503/);
    expect(peer.stats.handshakes).toBe(0);
  });
});

describe("netdbg windbg", () => {
  it("prints the windbg and kd lines (the key read by netdbg keys show unless --show-secrets)", async () => {
    const r = await run(["--show-secrets", "windbg", "win1"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`windbg -k net:port=${port},key=${KEY}`);
    expect(r.out).toContain(`kd -k net:port=${port},key=${KEY}`);
    const red = await run(["windbg", "win1"]);
    expect(red.out).not.toContain(KEY);
    expect(red.out).toContain(`windbg -k "net:port=${port},key=$(netdbg --show-secrets keys show win1)"`);
  });
  it("refuses a Linux target", async () => {
    const r = await run(["windbg", "lin1"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/NETDBG-E511/);
  });
});

describe("netdbg connect <windows-target> --exec", () => {
  it("handshakes, shows the version and runs commands (--json)", async () => {
    const peer = await startPeer();
    const dump = join(dir, "dump.bin");
    const bp = (0xfffff8001241a2b0n + 0x10n).toString(16);
    const r = await run([
      "--json",
      "connect",
      "win1",
      "--no-setup-check", // the KDNET peer stands in for a target set up by hand: no journal here
      "--timeout",
      "10",
      "--exec",
      `version; lm; r; db ${KERNEL_BASE.toString(16)} L16; eb nt+1 5a; db ntoskrnl+0 L2; db hal L2; db kd_02_8086-10+10 L2; eq ${(KERNEL_BASE + 0x100n).toString(16)} 1122334455667788; r rbx=beef; bp ${bp}; bl; g; t; bc *; .dump ${BULK_BASE.toString(16)} 0x800 ${dump}; nonsense`,
    ]);
    const j = JSON.parse(r.out);
    expect(j.handshake).toMatchObject({
      protocolVersion: 5,
      version: { kernBase: `0x${KERNEL_BASE.toString(16)}`, machine: "x64" },
    });
    // first result per command word (reversed, so earlier entries win)
    const byCmd = Object.fromEntries([...j.results].reverse().map((x: { command: string }) => [x.command.split(" ")[0], x]));
    expect(byCmd.lm.data.map((m: { name: string }) => m.name)).toContain("ntoskrnl.exe");
    expect(byCmd.r.data.rip).toBe("0xfffff8001241a2b0");
    expect(byCmd.db.data.hex.startsWith("4d5a")).toBe(true);
    const dbs = j.results.filter((x: { command: string }) => x.command.startsWith("db "));
    expect(dbs.map((x: { data: { address: string } }) => x.data.address)).toEqual([
      "0xfffff80012000000",
      "0xfffff80012000000",
      "0xfffff80011a00000",
      "0xfffff80011b40000",
    ]);
    expect(dbs[1].data.hex).toBe("4d5a");
    expect(byCmd.g.data.pc).toBe(`0x${bp}`);
    expect(byCmd.t.data.state).toMatch(/Single step/);
    expect(byCmd.bc.ok).toBe(true);
    expect(byCmd.eb.ok).toBe(true);
    expect(byCmd.eq.ok).toBe(true);
    expect(peer.memory.read(KERNEL_BASE + 0x100n, 8).readBigUInt64LE(0)).toBe(0x1122334455667788n);
    expect(peer.context.readBigUInt64LE(0x90)).toBe(0xbeefn);
    expect(byCmd[".dump"].data.bytes).toBe(0x800);
    expect(byCmd.nonsense).toMatchObject({ ok: false, error: { code: "NETDBG-E507" } });
    expect(r.code).toBe(1);
    const file = await readFile(dump);
    expect(file.length).toBe(0x800);
    expect(file[0x7ff]).toBe(bulkByte(0x7ff));
    expect(peer.breakpoints.size).toBe(0);
    expect(j.resumed).toBe(true);
    expect(peer.running).toBe(true);
    expect(r.out).not.toContain(KEY);
  });

  it("says so when pokes come from another address than the inventory's", async () => {
    await startPeer();
    const r = await run(["connect", "win2", "--no-setup-check", "--port", String(port), "--timeout", "1"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ignoring KDNET datagrams from 127\.0\.0\.1/);
    expect(r.err).toMatch(/NETDBG-E512/);
  });

  it("listens on the host IP the target sends to (transport.hostIp), not on every address", async () => {
    // another program holds the port on 127.0.0.1 only: netdbg, bound to 127.0.0.2, is not in its way
    const other = await openUdp({ port: port + 2, address: "127.0.0.1" });
    try {
      const r = await run(["--json", "connect", "win3", "--no-setup-check", "--timeout", "1"]);
      expect(r.out + r.err).not.toMatch(/NETDBG-E506/);
      expect(JSON.parse(r.out).error.code).toBe("NETDBG-E502"); // it listened, on 127.0.0.2: no poke came
    } finally {
      await other.close();
    }
  });

  it("says the key is wrong when the target's pokes do not authenticate", async () => {
    await startPeer("1.2.3.4");
    const r = await run(["connect", "win1", "--no-setup-check", "--timeout", "1"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/NETDBG-E503/);
  });
});

describe("netdbg connect <windows-target> REPL", () => {
  it("reads commands from stdin: a target already stopped (LoadSymbols at boot) is not broken into again", async () => {
    const peer = await startPeer(KEY, { stopAtBoot: "winload.efi" });
    const bp = (0xfffff8001241a2b0n + 0x20n).toString(16);
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "test/helpers/kdnet-cli-entry.ts",
        "--state-dir",
        dir,
        "connect",
        "win1",
        "--no-setup-check",
        "--timeout",
        "10",
      ],
      {
        cwd: join(import.meta.dirname, "../.."),
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.stdin.write(`version\nbp ${bp}\ng\nr\nbc *\nq\n`);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(err).toMatch(/handshake with 127\.0\.0\.1/);
    expect(out).toMatch(/Kernel base = 0xfffff80012000000/);
    expect(out).toMatch(new RegExp(`Break instruction exception .* at 0x${bp}`));
    expect(out).toMatch(new RegExp(`rip=${bp}`));
    expect(out).toMatch(/rax=0000000000001111/);
    expect(code).toBe(0);
    expect(err).toMatch(/the target runs on/);
    expect(peer.running).toBe(true);
    expect(out).not.toMatch(/Break instruction exception .* at 0xfffff8001241a2b0\b/);
    expect(peer.received.filter((p) => p.type === 2).length).toBeGreaterThan(3);
  }, 60_000);
});

describe("netdbg kdnet decode's summary", () => {
  it("is a table on a terminal and count lines in a pipe", async () => {
    const tty = process.stdout.isTTY;
    try {
      Object.defineProperty(process.stdout, "isTTY", { value: true, configurable: true });
      const t = await run(["kdnet", "decode", "--key", "8.8.8.8", `${FIX}/windbg-uncut.pcapng.gz`]);
      expect(t.out).toMatch(/│ API ReadVirtualMemory\s+│ 88\s+│/);
      expect(t.out).toMatch(/│ resends \(RESEND packets\)\s+│ 2\s+│/);
      Object.defineProperty(process.stdout, "isTTY", { value: false, configurable: true });
      const p = await run(["kdnet", "decode", "--key", "8.8.8.8", `${FIX}/windbg-uncut.pcapng.gz`]);
      expect(p.out).not.toContain("│");
      expect(p.out).toMatch(/^\s+88 {2}API ReadVirtualMemory$/m);
    } finally {
      Object.defineProperty(process.stdout, "isTTY", { value: tty, configurable: true });
    }
  });
});
