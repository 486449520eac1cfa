/**
 * The inventory schema: targets.yaml under the XDG config dir. Validation lives here (pure); reading and
 * atomic writing live in src/io/inventory-store.ts.
 */
import { parseAddressInput } from "./address.js";
import { z } from "zod";

export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

import { DEBUG_PORT_MAX, DEBUG_PORT_MIN } from "./udp-port.js";

export { DEBUG_PORT_MAX, DEBUG_PORT_MIN, DEFAULT_PORT_RANGE } from "./udp-port.js";

/** The host UDP ports new targets get theirs from (one range per debug host; --port-range, netdbg_port_range). */
export const portRangeSchema = z
  .object({
    from: z.number().int().min(DEBUG_PORT_MIN).max(DEBUG_PORT_MAX),
    to: z.number().int().min(DEBUG_PORT_MIN).max(DEBUG_PORT_MAX),
  })
  .strict()
  .refine((r) => r.from <= r.to, { message: "'from' must not be above 'to'" });
export type PortRange = z.infer<typeof portRangeSchema>;

/** A strict IPv4/IPv6 literal or a DNS host name; a broken literal (`10.0.0.300`, `127.1`) is neither. */
export function isValidAddress(value: string): boolean {
  return parseAddressInput(value).kind !== "invalid";
}

/** Why `value` is not an address, or undefined when it is one. */
export function addressProblem(value: string): string | undefined {
  const a = parseAddressInput(value);
  return a.kind === "invalid" ? a.reason : undefined;
}

export const addressSchema = z.string().superRefine((value, ctx) => {
  const problem = addressProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `expected an IPv4 or IPv6 address or a DNS name: ${problem}` });
});

export const sshSchema = z
  .object({
    /** Host alias from ~/.ssh/config, or a host name/address; defaults to the target's address. */
    host: z.string().min(1).optional(),
    user: z
      .string()
      .regex(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}\$?$/, "not a valid user name")
      .optional(),
    port: z.number().int().min(1).max(65535).optional(),
    identityFile: z.string().min(1).optional(),
    /** known_hosts to check this target's host key against (default ~/.ssh/known_hosts); `lab up` writes one. */
    knownHostsFile: z.string().min(1).optional(),
  })
  .strict();

export const targetSchema = z
  .object({
    name: z.string().regex(TARGET_NAME, "1–63 letters, digits, '.', '_' or '-'"),
    os: z.enum(["windows", "linux"]),
    address: addressSchema,
    ssh: sshSchema.optional(),
    /** Host UDP port the target's debugger traffic goes to (KDNET) or netdbg binds (kgdboe). */
    port: z.number().int().min(DEBUG_PORT_MIN).max(DEBUG_PORT_MAX).optional(),
    groups: z.array(z.string().regex(TARGET_NAME)).optional(),
    transport: z
      .object({
        /** kgdboe: the UDP port on the target (default 31337). */
        targetPort: z.number().int().min(1).max(65535).optional(),
        /** Target NIC to debug through (name on Linux, alias or PCI b.d.f on Windows). */
        nic: z.string().min(1).optional(),
        /** Host address the target sends to, when route discovery is not wanted. */
        hostIp: addressSchema.optional(),
        /**
         * Windows: the address KDNET pokes come from in the debug boot, when it is not `address` (KDNET's own
         * address comes from DHCP or 169.254.x.x, not the NIC's static one). `connect` listens for this one.
         */
        kdnetAddress: z
          .string()
          .regex(/^[0-9A-Fa-f:.]+$/, "a literal IPv4 or IPv6 address")
          .optional(),
        /**
         * Linux: where the kernel's kgdb answers when it is not kgdboe on address:targetPort — e.g. kgdboc on a
         * serial line behind a console server (`udp:HOST:PORT`, `tcp:HOST:PORT`). `connect` uses it by default.
         */
        endpoint: z
          .string()
          .regex(/^(udp|tcp):\S+:\d{1,5}(@\d{1,5})?$/, "expected udp:HOST:PORT[@LOCALPORT] or tcp:HOST:PORT")
          .optional(),
        /**
         * Linux: how `connect` stops a running kernel before attaching. kgdboe stops it on the first packet
         * ("none" needed); kgdboc does not, so "sysrq-ssh" runs `echo g > /proc/sysrq-trigger` over SSH first.
         */
        breakIn: z.enum(["none", "sysrq-ssh"]).optional(),
        /** Linux: the target kernel's unstripped vmlinux on this host, for symbols (`connect --vmlinux` overrides). */
        vmlinux: z.string().min(1).optional(),
        /** Linux: where setup takes kgdboe from when --kgdboe-source is not given (git URL, directory, tarball). */
        kgdboeSource: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Free-form note; never interpreted. */
    note: z.string().optional(),
  })
  .strict();

export type Target = z.infer<typeof targetSchema>;

export const inventorySchema = z
  .object({
    version: z.literal(1),
    /** Where automatic ports come from (default 50000–50039). */
    portRange: portRangeSchema.optional(),
    targets: z.array(targetSchema),
  })
  .strict()
  .superRefine((inv, ctx) => {
    const seenNames = new Map<string, number>();
    const seenPorts = new Map<number, string>();
    inv.targets.forEach((t, i) => {
      const prev = seenNames.get(t.name);
      if (prev !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["targets", i, "name"],
          message: `duplicate target name '${t.name}' (also entry ${prev + 1})`,
        });
      }
      seenNames.set(t.name, i);
      if (t.port !== undefined) {
        const other = seenPorts.get(t.port);
        if (other !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["targets", i, "port"],
            message: `port ${t.port} is also used by target '${other}'`,
          });
        }
        seenPorts.set(t.port, t.name);
      }
    });
  });

export type Inventory = z.infer<typeof inventorySchema>;

export const emptyInventory = (): Inventory => ({ version: 1, targets: [] });
