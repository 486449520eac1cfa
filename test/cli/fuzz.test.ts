/**
 * The CLI against hostile and broken input: odd names (spaces, quotes, `$(…)`, `../`, unicode, 10 kB), odd
 * addresses, out-of-range ports, broken YAML inventories and broken journals. Every case must end in exit 0–3
 * (never 70, never an uncaught exception), a failure must carry a NETDBG code, nothing outside the state
 * directory may change, and a failed command must leave the state directory as it was.
 * In-process (the CLI's main()), with a fixed seed: the same cases every run, FUZZ_CASES of them.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { seededRandom as rng } from "../helpers/rng.js";

const FUZZ_CASES = 520;
const SEED = 0x5eed1234;

const canary = join(tmpdir(), `netdbg-fuzz-canary-${process.pid}`);
const NAMES = [
  "box",
  "a b",
  "'q'",
  '"dq"',
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  "../../etc/passwd",
  "..",
  "ünïcødé",
  "名前",
  "x".repeat(10_000),
  "-rf",
  "--json",
  "",
  "a\nb",
  "a;b",
  "a|b",
  "NUL\u0000x",
  "emoji-🐛",
  "c:\\windows",
];
// Only literals, loopback and strings no resolver would send a query for: the fuzz sends nothing off this host
// (an SSH attempt goes to 127.0.0.1 port 9, where nothing listens).
const ADDRESSES = [
  "127.0.0.1",
  "127.0.0.2",
  "10.0.0.300",
  "1.2.3",
  "127.1",
  "0x7f.1",
  "::ffff:1.2.3.4",
  "fe80::1%eth0",
  `$(touch ${canary})`,
  "a b",
  "",
  "h".repeat(300),
  "-oProxyCommand=id",
  "[::1]",
  "::1",
];
const PORTS = ["50001", "0", "-1", "65536", "49151", "abc", "1e3", "50000.5", "", "99999999999999999999"];
const INVENTORIES = [
  undefined,
  "version: 1\ntargets: []\n",
  "targets: [",
  "version: 1\ntargets: {}\n",
  "version: 99\ntargets: []\n",
  "\u0000\u0001\u0002",
  `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
    { length: 9 },
    (_, i) =>
      `${"b".repeat(i + 1)}: &${"b".repeat(i + 1)} [${Array(9)
        .fill(i === 0 ? "*a" : `*${"b".repeat(i)}`)
        .join(",")}]`,
  ).join("\n")}\n`,
  'version: 1\ntargets:\n  - {"name":"box","os":"windows","address":"127.0.0.1","port":50001,"ssh":{"port":9}}\n',
  'version: 1\ntargets:\n  - {"name":"lx","os":"linux","address":"127.0.0.1","port":50002,"ssh":{"port":9}}\n',
  'version: 1\ntargets:\n  - {"name":"box","os":"plan9","address":"127.0.0.1"}\n',
  "version: 1\ntargets:\n  - name: box\n    os: windows\n    address: 10.0.0.300\n",
];
/** Both targets, valid: most cases get past the inventory and reach the command itself. */
const GOOD_INVENTORY =
  'version: 1\ntargets:\n  - {"name":"box","os":"windows","address":"127.0.0.1","port":50001,"ssh":{"port":9}}\n  - {"name":"lx","os":"linux","address":"127.0.0.1","port":50002,"ssh":{"port":9}}\n';
const JOURNALS = [undefined, "{", "null", '{"entries":[null]}', '{"entries":[5]}', '{"entries":[{}]}', '{"facts":null}', "[]"];

type Case = { argv: string[]; inventory?: string; journal?: { target: string; text: string } };

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function makeCase(r: () => number): Case {
  const name = pick(r, NAMES);
  const address = pick(r, ADDRESSES);
  const port = pick(r, PORTS);
  const os = pick(r, ["windows", "linux", "bsd", ""]);
  const shapes: (() => string[])[] = [
    () => ["targets", "add", name, "--os", os, "--address", address],
    () => ["targets", "add", name, "--os", os, "--address", address, "--port", port],
    () => ["targets", "edit", pick(r, [name, "box"]), "--address", address],
    () => ["targets", "edit", pick(r, [name, "box", "lx"]), "--port", port],
    () => ["targets", "edit", pick(r, ["box", "lx"]), "--nic", name],
    () => ["targets", "add", pick(r, ["box", "new"]), "--os", "linux", "--address", address, "--target-port", port],
    () => ["targets", "show", name],
    () => ["targets", "remove", name],
    () => ["targets", "list"],
    () => ["connect", name, "--exec", "regs"],
    () => [
      "connect",
      pick(r, [name, "box", "lx"]),
      "--endpoint",
      pick(r, ["udp:", `udp:${address}:${port}`, "tcp::", "udp:127.0.0.1:9"]),
    ],
    () => ["gdb", pick(r, [name, "lx"]), "--listen", port, "--no-bridge"],
    () => ["windbg", pick(r, [name, "box"])],
    () => ["teardown", pick(r, [name, "box", "lx"]), "--check"],
    () => ["teardown", pick(r, ["box", "lx"]), "--check", "--restore-export", name],
    () => [
      "connect",
      pick(r, ["box", "lx"]),
      "--exec",
      pick(r, ["regs", name, `x/4gx ${name}`, "break $(id)"]),
      "--timeout",
      pick(r, ["0", "-1", "1e9", "abc", "1"]),
    ],
    () => ["keys", "show", name],
    () => ["keys", "import", name, "--file", pick(r, ["/nonexistent", join(tmpdir(), "..", name)])],
    () => ["kdnet", "decode", pick(r, ["/nonexistent.pcap", name]), "--key", pick(r, ["1.2.3.4", "zz", name])],
    () => ["host", "route", address],
    () => ["setup", pick(r, [name, "box"]), "--port", port, "--check"],
    () => [pick(r, ["nosuchcommand", name, "--port", "-x"])],
  ];
  const argv = ["--json", ...pick(r, shapes)()];
  const c: Case = { argv };
  const inv = r() < 0.6 ? GOOD_INVENTORY : pick(r, INVENTORIES);
  if (inv !== undefined) c.inventory = inv;
  const j = pick(r, JOURNALS);
  if (j !== undefined) c.journal = { target: pick(r, ["box", "lx"]), text: j };
  return c;
}

/** Every file under dir with its content hash (the state directory before/after). */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith(".lock"))
        out.push(`${p} ${createHash("sha256").update(readFileSync(p)).digest("hex")} ${statSync(p).mode}`);
    }
  };
  walk(dir);
  return out.sort().join("\n");
}

async function runInProcess(argv: string[], home: string): Promise<{ code: number; out: string; err: string; threw?: unknown }> {
  let out = "";
  let err = "";
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  const saved = { home: process.env.NETDBG_HOME, xdg: process.env.XDG_CONFIG_HOME };
  process.env.NETDBG_HOME = home;
  process.stdout.write = ((s: string | Uint8Array) => {
    out += String(s);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => {
    err += String(s);
    return true;
  }) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await Promise.race([
      main(["node", "netdbg", ...argv]),
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error("no answer within 20 s")), 20_000)),
    ]);
    return { code, out, err };
  } catch (e) {
    return { code: -1, out, err, threw: e };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = undefined;
    if (saved.home === undefined) delete process.env.NETDBG_HOME;
    else process.env.NETDBG_HOME = saved.home;
  }
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe(`the CLI fuzzed (${FUZZ_CASES} cases, seed ${SEED.toString(16)})`, () => {
  it("ends every case with a coded error or success, exit 0-3, and changes nothing when it fails", async () => {
    const r = rng(SEED);
    const problems: string[] = [];
    const codes = new Map<number, number>();
    const errorCodes = new Map<string, number>();
    for (let i = 0; i < FUZZ_CASES; i++) {
      const c = makeCase(r);
      const home = mkdtempSync(join(tmpdir(), "nd-fuzz-"));
      dirs.push(home);
      if (c.inventory !== undefined) writeFileSync(join(home, "targets.yaml"), c.inventory);
      if (c.journal) {
        mkdirSync(join(home, "state", "journals"), { recursive: true });
        writeFileSync(join(home, "state", "journals", `${c.journal.target}.json`), c.journal.text);
      }
      const before = snapshot(home);
      const res = await runInProcess(c.argv, home);
      codes.set(res.code, (codes.get(res.code) ?? 0) + 1);
      const ecode = /NETDBG-E\d{3}/.exec(res.out + res.err)?.[0] ?? "none";
      errorCodes.set(ecode, (errorCodes.get(ecode) ?? 0) + 1);
      const show = `#${i} netdbg ${c.argv.map((a) => JSON.stringify(a.length > 60 ? `${a.slice(0, 60)}…` : a)).join(" ")}`;
      if (res.threw) problems.push(`${show}: threw ${(res.threw as Error).message}`);
      else if (res.code < 0 || res.code > 3) problems.push(`${show}: exit ${res.code}: ${(res.out + res.err).slice(0, 300)}`);
      else if (res.code !== 0 && !/NETDBG-E\d{3}/.test(res.out + res.err))
        problems.push(`${show}: exit ${res.code} without a code: ${(res.out + res.err).slice(0, 300)}`);
      else if (res.code !== 0 && snapshot(home) !== before)
        problems.push(`${show}: failed (exit ${res.code}) but changed the state directory`);
      if (existsSync(canary)) {
        problems.push(`${show}: a shell ran a value (${canary} exists)`);
        rmSync(canary);
      }
      rmSync(home, { recursive: true, force: true });
    }
    console.log(
      `fuzz: exit codes ${JSON.stringify(Object.fromEntries([...codes].sort()))}; errors ${JSON.stringify(Object.fromEntries([...errorCodes].sort()))}`,
    );
    expect(problems, problems.slice(0, 15).join("\n")).toEqual([]);
    // the generator reaches both outcomes (a fuzz that only ever fails proves little)
    expect(codes.get(0) ?? 0).toBeGreaterThan(10);
    expect((codes.get(2) ?? 0) + (codes.get(3) ?? 0)).toBeGreaterThan(100);
  }, 600_000);
});
