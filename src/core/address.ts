/**
 * What a user typed as a target address: an IPv4 literal, an IPv6 literal, a DNS host name — or a literal that
 * is broken. Literals are checked strictly with ipaddr.js: IPv4 is four decimal parts 0–255 (RFC 791 dotted
 * quad, no leading zeros), IPv6 is RFC 4291 text form with an optional RFC 4007 zone (`fe80::1%eth0`).
 *
 * The forms inet_aton(3) also accepts (`127.1`, `0x7f.1`, `017.0.0.1`) are refused: ssh and ping would silently
 * read them as some other address. A name is a host name only when its last label is not all digits (RFC 3696
 * section 2: a top-level domain is never all-numeric), so `10.0.0.300` and `1.2.3` are broken literals, not names.
 */
import ipaddr from "ipaddr.js";

export type AddressInput =
  | { kind: "ipv4"; value: string }
  | { kind: "ipv6"; value: string; zone?: string }
  | { kind: "hostname"; value: string }
  | { kind: "invalid"; value: string; reason: string };

/** RFC 1123 host name: labels of letters, digits and inner hyphens, 1–63 each, 253 in all, optional root dot. */
const HOSTNAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const ZONE = /^[A-Za-z0-9_.-]{1,64}$/;

function lastLabel(s: string): string {
  const trimmed = s.endsWith(".") ? s.slice(0, -1) : s;
  return trimmed.slice(trimmed.lastIndexOf(".") + 1);
}

/** Looks like an attempt at an IPv4 literal: the last label is decimal, octal-ish or hex digits. */
function looksNumeric(s: string): boolean {
  const last = lastLabel(s);
  return /^\d+$/.test(last) || /^0x[0-9a-f]*$/i.test(last);
}

function ipv4Reason(s: string): string {
  if (ipaddr.IPv4.isValid(s)) {
    // a legacy inet_aton form: say what other tools would make of it
    const meant = ipaddr.IPv4.parse(s).toString();
    return `a short, octal or hex IPv4 form that other tools read as ${meant}; write the four decimal parts (${meant})`;
  }
  const parts = s.split(".");
  if (parts.length !== 4) return `an IPv4 address has four decimal parts separated by dots, this has ${parts.length}`;
  const bad = parts.find((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255);
  return bad === undefined ? "not a valid IPv4 address" : `'${bad}' is not a decimal number 0-255`;
}

export function parseAddressInput(raw: string): AddressInput {
  const value = raw;
  if (value.length === 0) return { kind: "invalid", value, reason: "the address is empty" };
  if (value.trim() !== value) return { kind: "invalid", value, reason: "the address has leading or trailing spaces" };
  if (value.includes(":")) {
    if (value.startsWith("[") || value.endsWith("]"))
      return { kind: "invalid", value, reason: "write an IPv6 address without brackets" };
    const pct = value.indexOf("%");
    const addr = pct < 0 ? value : value.slice(0, pct);
    const zone = pct < 0 ? undefined : value.slice(pct + 1);
    if (zone !== undefined && !ZONE.test(zone))
      return { kind: "invalid", value, reason: "the zone after '%' must name an interface" };
    // ipaddr.js would take a zone in isValid; the zone is checked above, the address alone here
    if (addr.includes("%") || !ipaddr.IPv6.isValid(addr) || !/^[0-9A-Fa-f:.]+$/.test(addr))
      return { kind: "invalid", value, reason: "not a valid IPv6 address" };
    const dotted = addr.lastIndexOf(":");
    if (addr.includes(".") && !ipaddr.IPv4.isValidFourPartDecimal(addr.slice(dotted + 1)))
      return { kind: "invalid", value, reason: "the IPv4 tail of this IPv6 address is not four decimal parts 0-255" };
    return zone === undefined ? { kind: "ipv6", value } : { kind: "ipv6", value, zone };
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(value)) return { kind: "ipv4", value };
  if (looksNumeric(value)) return { kind: "invalid", value, reason: ipv4Reason(value) };
  if (HOSTNAME.test(value)) return { kind: "hostname", value };
  return {
    kind: "invalid",
    value,
    reason: "a host name has labels of letters, digits and inner hyphens separated by dots",
  };
}

/** 4 or 6 for a strict literal (an IPv6 zone is allowed), 0 for a host name or anything broken. */
export function literalVersion(value: string): 0 | 4 | 6 {
  const a = parseAddressInput(value);
  return a.kind === "ipv4" ? 4 : a.kind === "ipv6" ? 6 : 0;
}
