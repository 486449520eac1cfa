import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { conflictingRoutes, isolationViolations, parseLabSubnet } from "../../src/lab/net.js";

const hostRoutes = readFileSync(new URL("./fixtures/host-route-table-all.json", import.meta.url), "utf8");

describe("lab subnet", () => {
  it("gives the host .1 and the lab .2 of a /30", () => {
    expect(parseLabSubnet("10.213.77.0/30")).toMatchObject({ hostAddress: "10.213.77.1", labAddress: "10.213.77.2", prefix: 30 });
    expect(parseLabSubnet("192.168.9.0/24")).toMatchObject({ hostAddress: "192.168.9.1", labAddress: "192.168.9.2" });
  });

  it("refuses public, non-network, too large or malformed subnets", () => {
    for (const bad of ["8.8.8.0/30", "10.0.0.1/30", "10.0.0.0/16", "10.0.0.0/31", "10.0.0.0", "300.0.0.0/30", "172.32.0.0/30"]) {
      expect(parseLabSubnet(bad), bad).toBeUndefined();
    }
  });

  it("finds no conflict on this machine's real route table, and a conflict with an overlapping route", () => {
    const s = parseLabSubnet("10.213.77.0/30")!;
    expect(conflictingRoutes(hostRoutes, s, "ndlab0")).toEqual([]);
    const clash = JSON.stringify([
      { dst: "10.213.0.0/16", dev: "br0" },
      { dst: "10.213.77.0/30", dev: "ndlab0" },
    ]);
    expect(conflictingRoutes(clash, s, "ndlab0")).toEqual(["10.213.0.0/16 dev br0"]);
    const host = JSON.stringify([
      { dst: "default", gateway: "192.168.1.1", dev: "eth0" },
      { dst: "192.168.1.0/24", dev: "eth0" },
    ]);
    expect(conflictingRoutes(host, parseLabSubnet("192.168.1.128/30")!, "ndlab0")).toEqual(["192.168.1.0/24 dev eth0"]);
    expect(conflictingRoutes(host, parseLabSubnet("192.168.2.0/30")!, "ndlab0")).toEqual([]);
  });
});

describe("lab isolation from route tables", () => {
  const s = parseLabSubnet("10.213.77.0/30")!;
  it("a namespace with only its link route and local table is isolated", () => {
    const ok = JSON.stringify([
      { dst: "10.213.77.0/30", dev: "ndlab1", protocol: "kernel", scope: "link", prefsrc: "10.213.77.2" },
      { type: "local", dst: "10.213.77.2", dev: "ndlab1", table: "local" },
      { type: "local", dst: "127.0.0.0/8", dev: "lo", table: "local" },
    ]);
    expect(isolationViolations(ok, s)).toEqual([]);
  });
  it("the host's own table (default route) is not isolated", () => {
    expect(isolationViolations(hostRoutes, s)).toContain("default via 192.0.2.1 dev eth0");
  });
  it("any gateway, wider destination or IPv6 route is a way out", () => {
    const bad = JSON.stringify([
      { dst: "10.213.77.0/30", gateway: "10.213.77.1", dev: "ndlab1" },
      { dst: "10.213.0.0/16", dev: "ndlab1" },
      { dst: "fe80::/64", dev: "ndlab1" },
    ]);
    expect(isolationViolations(bad, s)).toHaveLength(3);
  });
});
