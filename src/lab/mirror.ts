/**
 * The Debian mirror the host's apt already uses, for debootstrap. Formats: sources.list(5) — the one-line
 * style (`deb [opts] URI suite component…`) and the deb822 style (`Types:`/`URIs:`/`Suites:` stanzas, as in
 * Debian 12's /etc/apt/sources.list.d/debian.sources). Checked against both man page examples and this
 * machine's debian.sources. Never a hard-coded host name: no apt source, no mirror.
 */

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line.startsWith("deb ") && !line.startsWith("deb\t")) continue;
    const rest = line
      .slice(3)
      .trim()
      .replace(/^\[[^\]]*\]\s*/, "");
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (uri && suite) out.push({ uri, suites: [suite], components });
  }
  return out;
}

function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  const stanzas = text.split(/\n\s*\n/);
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of stanza.split("\n")) {
      if (raw.startsWith("#")) continue;
      if (/^\s/.test(raw) && last) {
        fields.set(last, `${fields.get(last) ?? ""} ${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(raw);
      if (m?.[1]) {
        last = m[1].toLowerCase();
        fields.set(last, m[2] ?? "");
      }
    }
    const types = (fields.get("types") ?? "").split(/\s+/);
    if (!types.includes("deb")) continue;
    if ((fields.get("enabled") ?? "yes").trim().toLowerCase() === "no") continue;
    const suites = (fields.get("suites") ?? "").split(/\s+/).filter(Boolean);
    const components = (fields.get("components") ?? "").split(/\s+/).filter(Boolean);
    for (const uri of (fields.get("uris") ?? "").split(/\s+/).filter(Boolean)) out.push({ uri, suites, components });
  }
  return out;
}

/** All `deb` sources in the given files (`*.sources` are deb822, everything else one-line). */
export function parseAptSources(files: readonly { path: string; text: string }[]): AptSource[] {
  return files.flatMap((f) => (f.path.endsWith(".sources") ? parseDeb822(f.text) : parseOneLine(f.text)));
}

/** The first source that serves `suite` (exactly, e.g. "bookworm", not "bookworm-security") with `main`. */
export function pickMirror(sources: readonly AptSource[], suite: string): string | undefined {
  const s = sources.find((x) => x.suites.includes(suite) && x.components.includes("main") && /^https?:\/\//.test(x.uri));
  return s?.uri.replace(/\/+$/, "");
}
