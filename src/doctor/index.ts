/** The doctor's check list, in the order they are shown. Areas add their checks here. */
import { firewallCheck, ipsecCheck, keyCheck, portCheck, routeCheck } from "./checks-host.js";
import { headersCheck, kconfigCheck, kgdboeCheck, lockdownCheck, pollControllerCheck } from "./checks-linux.js";
import { hopsCheck, rttCheck } from "./checks-route.js";
import { nicCheck, sshCheck } from "./checks-target.js";
import { bcdCheck, bitlockerCheck, pokesCheck, secureBootCheck } from "./checks-windows.js";
import type { Check } from "./types.js";

export const checks: readonly Check[] = [
  routeCheck,
  hopsCheck,
  portCheck,
  keyCheck,
  ipsecCheck,
  sshCheck,
  rttCheck,
  firewallCheck,
  nicCheck,
  secureBootCheck,
  bitlockerCheck,
  bcdCheck,
  kconfigCheck,
  lockdownCheck,
  headersCheck,
  pollControllerCheck,
  kgdboeCheck,
  pokesCheck,
];
