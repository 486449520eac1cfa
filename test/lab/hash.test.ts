import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, inputsHash } from "../../src/lab/hash.js";
import { imageInputs, rootfsInputs } from "../../src/lab/artifacts.js";

describe("cache keys", () => {
  it("do not depend on key order", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(inputsHash(reversed)).toBe(inputsHash(o));
      }),
    );
  });
  it("change when any input changes", () => {
    expect(inputsHash({ a: 1 })).not.toBe(inputsHash({ a: 2 }));
    expect(inputsHash(imageInputs("k1", "r1"))).not.toBe(inputsHash(imageInputs("k2", "r1")));
    expect(inputsHash(rootfsInputs("bookworm"))).not.toBe(inputsHash(rootfsInputs("trixie")));
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: "x" })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
  });
  it("the rootfs recipe includes sshd, the compiler and the stock kernel with headers", () => {
    const r = rootfsInputs("bookworm");
    for (const p of ["openssh-server", "gcc", "make", "linux-image-amd64", "linux-headers-amd64"])
      expect(r.packages).toContain(p);
    expect(r.files["/etc/ssh/sshd_config.d/netdbg-lab.conf"]).toContain("PermitRootLogin prohibit-password");
  });
});
