/**
 * route.hops for real: four network namespaces — host H, routers R1 and R2 (forwarding on), target T — chained by
 * veth pairs on private /24s of our own. doctor runs in H (the CLI from source, entered with nsenter): the real
 * route lookup finds the gateway, the real ping's reply TTL (64 − 2) gives two routers, and the check warns that
 * the target is routed. Traffic never leaves these namespaces.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetnsPair, requireTool } from "../fakes/netns.js";

const ENTRY = fileURLToPath(new URL("../helpers/cli-entry.ts", import.meta.url));
const a = new NetnsPair("dha", 250); // H (host side) — R1 (target side)
const b = new NetnsPair("dhb", 251); // R2 (host side) — T (target side)
const LINK = { r1: "10.231.252.1", r2: "10.231.252.2" };
let dir: string;

beforeAll(async () => {
  requireTool("nsenter", "util-linux");
  requireTool("ping", "iputils-ping");
  await a.create();
  await b.create();
  const r1If = `ndr1-${process.pid % 100000}`.slice(0, 15);
  const r2If = `ndr2-${process.pid % 100000}`.slice(0, 15);
  execFileSync("ip", [
    "link",
    "add",
    r1If,
    "netns",
    String(a.target.pid),
    "type",
    "veth",
    "peer",
    "name",
    r2If,
    "netns",
    String(b.host.pid),
  ]);
  a.inTarget("ip", "addr", "add", `${LINK.r1}/24`, "dev", r1If);
  a.inTarget("ip", "link", "set", r1If, "up");
  b.inHost("ip", "addr", "add", `${LINK.r2}/24`, "dev", r2If);
  b.inHost("ip", "link", "set", r2If, "up");
  for (const run of [a.inTarget.bind(a), b.inHost.bind(b)]) run("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
  a.inHost("ip", "route", "add", "default", "via", a.targetIp);
  a.inTarget("ip", "route", "add", "10.231.251.0/24", "via", LINK.r2);
  b.inHost("ip", "route", "add", "10.231.250.0/24", "via", LINK.r1);
  b.inTarget("ip", "route", "add", "default", "via", b.hostIp);

  dir = mkdtempSync(join(tmpdir(), "nd-doctor-hops-"));
  mkdirSync(join(dir, "nd"));
  writeFileSync(
    join(dir, "nd", "targets.yaml"),
    `version: 1\ntargets:\n  - { name: far, os: linux, address: ${b.targetIp}, port: 50032 }\n`,
  );
}, 60_000);

afterAll(() => {
  a.destroy();
  b.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function doctor(): Promise<{ id: string; status: string; message: string }[]> {
  const [file, ...args] = a.hostArgv(process.execPath, "--import", "tsx", ENTRY, "--json", "doctor", "far", "--no-ssh");
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, {
      env: { ...process.env, NETDBG_HOME: join(dir, "nd"), HOME: dir, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => {
      try {
        resolve(
          (JSON.parse(out) as { reports: { checks: { id: string; status: string; message: string }[] }[] }).reports[0]!.checks,
        );
      } catch (e) {
        reject(new Error(`doctor printed no JSON (exit ${code}): ${out}\n${err}\n${String(e)}`));
      }
    });
  });
}

describe("route.hops through two real routers", () => {
  it("finds the gateway, measures two routers from ping's TTL, and warns that the target is routed", async () => {
    const checks = await doctor();
    const hops = checks.find((c) => c.id === "route.hops")!;
    expect(hops.status).toBe("warn");
    expect(hops.message).toContain(`routed through ${a.targetIp}`);
    expect(hops.message).toContain("about 2 router(s) away (reply TTL 62)");
    const rtt = checks.find((c) => c.id === "route.rtt")!;
    // nothing listens on the target's SSH port: the refusals (RST) still time the round trips
    expect(rtt.status).toBe("ok");
    expect(rtt.message).toContain(`TCP handshake to ${b.targetIp}:22`);
  }, 60_000);
});
