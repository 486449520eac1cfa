import { netdbgError } from "../../core/error.js";

/** The single way a half-built capability answers: a coded error naming what is missing, never a fake success. */
export function notAvailable(what: string, instead?: string): never {
  throw netdbgError("E001", instead === undefined ? { what } : { what, instead });
}
