/** The doctor's check list, in the order they are shown. Areas add their checks here. */
import { keyCheck, portCheck, routeCheck } from "./checks-host.js";
import type { Check } from "./types.js";

export const checks: readonly Check[] = [routeCheck, portCheck, keyCheck];
