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
