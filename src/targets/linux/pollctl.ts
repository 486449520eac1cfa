/**
 * Does the NIC's driver have an ndo_poll_controller? Upstream kgdboe (sysprogs/kgdboe, poll_copy.c) receives
 * while the kernel is stopped only through that hook, and since Linux 4.19 it is optional: commit
 * ac3d9dd034e5 ("netpoll: make ndo_poll_controller() optional", torvalds/linux) and the series that removed it
 * from virtio_net, hv_netvsc, ena, ixgbe, i40e, ice, mlx4/mlx5, bnxt … On such a NIC upstream kgdboe loads and
 * says "Successfully initialized", then the first break-in stops the kernel for good: it never hears another
 * packet. netdbg refuses that combination before loading anything.
 *
 * The signal, in order:
 *  1. the driver module's own symbols in /proc/kallsyms (names are shown whatever kptr_restrict says; static
 *     functions are listed too): a driver with the hook defines a function ending in `netpoll` or
 *     `poll_controller` (e1000_netpoll, rtl8169_netpoll, pcnet32_poll_controller …); a loaded module without one
 *     has no hook;
 *  2. for a built-in driver (no `[module]` symbols), the reviewed table below (read from each driver's
 *     net_device_ops in the kernel source: `.ndo_poll_controller` present or not, Linux 6.1–6.12).
 */

export type PollVerdict = { driver: string; hasPoll: boolean | undefined; how: "kallsyms" | "table" | "unknown" };

/** Drivers reviewed against their net_device_ops (Linux 6.1–6.12 sources, drivers/net/...). */
export const POLL_TABLE: Readonly<Record<string, boolean>> = {
  e1000: true,
  e1000e: true,
  igb: true,
  r8169: true,
  pcnet32: true,
  tg3: true,
  bnx2: true,
  vmxnet3: true,
  "8139too": true,
  "8139cp": true,
  ne2k_pci: true,
  tulip: true,
  virtio_net: false,
  hv_netvsc: false,
  ena: false,
  gve: false,
  ixgbe: false,
  ixgbevf: false,
  i40e: false,
  iavf: false,
  ice: false,
  mlx4_en: false,
  mlx4_core: false,
  mlx5_core: false,
  bnxt_en: false,
  xen_netfront: true,
};

/** Read-only probe: every `[module]` symbol of the listed drivers that looks like a poll controller, plus one
 * marker per driver module present in kallsyms. Driver names come from sysfs and are checked before use. */
export function pollProbe(drivers: string[]): string | undefined {
  const safe = [...new Set(drivers)].filter((d) => /^[A-Za-z0-9_-]{1,64}$/.test(d) && d !== "-");
  if (!safe.length) return undefined;
  // module names in kallsyms use '_' for '-'
  const list = safe.map((d) => d.replace(/-/g, "_")).join(" ");
  return `awk -v mods='${list}' 'BEGIN{n=split(mods,a," "); for(i=1;i<=n;i++) w["[" a[i] "]"]=1} ($4 in w){m=substr($4,2,length($4)-2); if(!(m in seen)){seen[m]=1; print "mod=" m} if($3 ~ /(netpoll|poll_controller)$/) print "poll=" m "\\t" $3}' /proc/kallsyms`;
}

/** Parse the probe's output → per driver (module name form) what kallsyms says. */
export function parsePollProbe(text: string): Map<string, { module: boolean; polls: string[] }> {
  const out = new Map<string, { module: boolean; polls: string[] }>();
  const get = (m: string) => {
    let e = out.get(m);
    if (!e) {
      e = { module: false, polls: [] };
      out.set(m, e);
    }
    return e;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("mod=")) get(line.slice(4)).module = true;
    else if (line.startsWith("poll=")) {
      const [m = "", sym = ""] = line.slice(5).split("\t");
      get(m).module = true;
      get(m).polls.push(sym);
    }
  }
  return out;
}

export function pollVerdict(driver: string, probed?: Map<string, { module: boolean; polls: string[] }>): PollVerdict {
  const key = driver.replace(/-/g, "_");
  const k = probed?.get(key);
  const t = POLL_TABLE[driver] ?? POLL_TABLE[key];
  // a hook's name is the driver's choice (poll_bnx2, ei_poll …): a reviewed "yes" wins over a silent kallsyms
  if (k?.module && (k.polls.length > 0 || t !== true)) return { driver, hasPoll: k.polls.length > 0, how: "kallsyms" };
  if (t !== undefined) return { driver, hasPoll: t, how: "table" };
  return { driver, hasPoll: undefined, how: "unknown" };
}

/** The bundled module (assets/kgdboe-compat) polls NAPI itself and needs no poll controller. */
export function isBundledSource(files: { path: string; content: Uint8Array | string }[] | undefined): boolean {
  const c = files?.find((f) => f.path === "kgdboe.c")?.content;
  if (c === undefined) return false;
  const s = typeof c === "string" ? c : Buffer.from(c).toString("utf8");
  return s.includes("kgdboe-compat");
}
