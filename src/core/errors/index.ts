import { ansibleErrors } from "./ansible.js";
import { coreErrors } from "./core.js";
import { doctorErrors } from "./doctor.js";
import { hostErrors } from "./host.js";
import { journeyErrors } from "./journey.js";
import { kdnetErrors } from "./kdnet.js";
import { labErrors } from "./lab.js";
import { linuxErrors } from "./linux.js";
import { rspErrors } from "./rsp.js";
import { sshErrors } from "./ssh.js";
import type { ErrorSpec } from "./types.js";
import { windowsErrors } from "./windows.js";

export const catalog = {
  ...coreErrors,
  ...hostErrors,
  ...windowsErrors,
  ...linuxErrors,
  ...rspErrors,
  ...kdnetErrors,
  ...labErrors,
  ...journeyErrors,
  ...doctorErrors,
  ...sshErrors,
  ...ansibleErrors,
};

export type Catalog = typeof catalog;
export type CatalogCode = keyof Catalog;
export type ParamsOf<C extends CatalogCode> =
  Catalog[C] extends ErrorSpec<infer P>
    ? P
    : Catalog[C] extends { message: (p: infer M) => string; fix: (p: infer F) => string }
      ? M & F
      : never;

/** Every section, for the uniqueness test and the generated docs. */
export const sections = {
  core: coreErrors,
  host: hostErrors,
  windows: windowsErrors,
  linux: linuxErrors,
  rsp: rspErrors,
  kdnet: kdnetErrors,
  lab: labErrors,
  journey: journeyErrors,
  doctor: doctorErrors,
  ssh: sshErrors,
  ansible: ansibleErrors,
} as const;

/**
 * Each area's code range (inclusive) and what it covers. The ranges do not overlap, every code of an area lies
 * inside its range (test/core/errors.test.ts), and docs/errors/README.md prints this table.
 */
export const CODE_RANGES: { readonly [A in keyof typeof sections]: { first: number; last: number; covers: string } } = {
  core: { first: 1, last: 99, covers: "core, cli, inventory, secrets" },
  host: { first: 100, last: 199, covers: "host: route, ports, firewall, IPsec" },
  windows: { first: 200, last: 299, covers: "Windows targets" },
  linux: { first: 300, last: 399, covers: "Linux targets (kgdboe)" },
  rsp: { first: 400, last: 499, covers: "engine: GDB RSP" },
  kdnet: { first: 500, last: 599, covers: "engine: KDNET / KD" },
  lab: { first: 600, last: 699, covers: "the built-in lab" },
  doctor: { first: 700, last: 739, covers: "doctor findings" },
  journey: { first: 740, last: 799, covers: "setup / teardown / fleets" },
  ssh: { first: 800, last: 849, covers: "SSH transport (both target kinds)" },
  ansible: { first: 900, last: 919, covers: "Ansible inventories and the netdbg.netdbg collection" },
};
