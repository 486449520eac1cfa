/**
 * OpenSSH known_hosts: parse, look up, append. Layout checked against sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"
 * (OpenSSH 9.2): `[@marker] hostpatterns keytype base64-key [comment]`, host patterns comma-separated with
 * `*`, `?` and `!` negation, non-default ports as `[host]:port`, hashed names as `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`
 * (HashKnownHosts, hostfile.c). The SHA256 fingerprint matches `ssh-keygen -lf` (checked in test/io/ssh.test.ts).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { appendFile, mkdir, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { netdbgError } from "../core/error.js";

export interface KnownHostEntry {
  line: number;
  marker?: "cert-authority" | "revoked";
  /** The raw host field (comma-separated patterns or one hashed name). */
  hosts: string;
  keyType: string;
  /** The key blob (SSH wire format), decoded from base64. */
  key: Buffer;
}

/** `host` for port 22, `[host]:port` otherwise — the name OpenSSH looks up and records. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64 without padding>` of a key blob, as `ssh-keygen -lf` prints it. */
export function sha256Fingerprint(keyBlob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The algorithm name at the start of an SSH public key blob (RFC 4253 §6.6: string name, then key data). */
export function keyTypeOfBlob(keyBlob: Uint8Array): string {
  const buf = Buffer.from(keyBlob);
  if (buf.length < 4) return "unknown";
  const len = buf.readUInt32BE(0);
  if (len <= 0 || len > 64 || 4 + len > buf.length) return "unknown";
  return buf.subarray(4, 4 + len).toString("latin1");
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const lineText = raw.trim();
    if (lineText === "" || lineText.startsWith("#")) return;
    const fields = lineText.split(/[ \t]+/);
    let marker: KnownHostEntry["marker"];
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift();
      if (m === "@cert-authority") marker = "cert-authority";
      else if (m === "@revoked") marker = "revoked";
      else return; // unknown marker: OpenSSH ignores the line too
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return;
    const entry: KnownHostEntry = { line: i + 1, hosts, keyType, key: Buffer.from(b64, "base64") };
    if (marker) entry.marker = marker;
    out.push(entry);
  });
  return out;
}

function globMatch(pattern: string, name: string): boolean {
  // OpenSSH match_pattern(): '*' any run, '?' one character; host names compare case-insensitively.
  const re = new RegExp(
    `^${pattern
      .toLowerCase()
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "s",
  );
  return re.test(name.toLowerCase());
}

function hashedMatch(field: string, name: string): boolean {
  const parts = field.split("|"); // ["", "1", salt, hash]
  if (parts.length !== 4 || parts[1] !== "1" || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], "base64");
  const want = Buffer.from(parts[3], "base64");
  const got = createHmac("sha1", salt).update(name).digest();
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Whether an entry's host field matches `name` (already in `[host]:port` form when the port is not 22). */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith("|")) return hashedMatch(hosts, name);
  let matched = false;
  for (const pat of hosts.split(",")) {
    if (pat.startsWith("!")) {
      if (globMatch(pat.slice(1), name)) return false;
    } else if (globMatch(pat, name)) matched = true;
  }
  return matched;
}

export type HostKeyVerdict =
  | { status: "known"; entry: KnownHostEntry }
  | { status: "revoked"; entry: KnownHostEntry }
  | { status: "changed"; entry: KnownHostEntry }
  | { status: "unknown"; otherTypes: string[] };

/** RSA host keys are recorded as ssh-rsa whatever signature algorithm (rsa-sha2-256/512) was negotiated. */
function sameKeyFamily(a: string, b: string): boolean {
  const norm = (t: string) => (t === "rsa-sha2-256" || t === "rsa-sha2-512" ? "ssh-rsa" : t);
  return norm(a) === norm(b);
}

/** OpenSSH's decision for one presented key (sshconnect.c check_host_key): revoked > known > changed > unknown. */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, keyBlob: Uint8Array): HostKeyVerdict {
  const blob = Buffer.from(keyBlob);
  const type = keyTypeOfBlob(blob);
  const mine = entries.filter((e) => e.marker !== "cert-authority" && hostFieldMatches(e.hosts, name));
  const revoked = mine.find((e) => e.marker === "revoked" && e.key.equals(blob));
  if (revoked) return { status: "revoked", entry: revoked };
  const plain = mine.filter((e) => e.marker === undefined);
  const same = plain.find((e) => e.key.equals(blob));
  if (same) return { status: "known", entry: same };
  const changed = plain.find((e) => sameKeyFamily(e.keyType, type));
  if (changed) return { status: "changed", entry: changed };
  return { status: "unknown", otherTypes: [...new Set(plain.map((e) => e.keyType))] };
}

/** Key types recorded for `name`, so the client can ask the server for one of them first (as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).map((e) => e.keyType))];
}

export function formatKnownHostsLine(name: string, keyBlob: Uint8Array): string {
  return `${name} ${keyTypeOfBlob(keyBlob)} ${Buffer.from(keyBlob).toString("base64")}`;
}

export async function readKnownHosts(file: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw netdbgError("E013", { file, reason: (e as Error).message }, { cause: e });
  }
}

/** Append one plain entry; creates the directory (0700) and file (0600) like ssh does. */
export async function appendKnownHost(file: string, name: string, keyBlob: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  let prefix = "";
  try {
    const st = await stat(file);
    if (st.size > 0) {
      const text = await readFile(file);
      if (text[text.length - 1] !== 0x0a) prefix = "\n";
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await appendFile(file, `${prefix}${formatKnownHostsLine(name, keyBlob)}\n`, { mode: 0o600 });
}
