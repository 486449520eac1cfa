import { defineErrors } from "./types.js";

/** Errors of this area: see the code ranges in types.ts. */
export const journeyErrors = defineErrors({});
