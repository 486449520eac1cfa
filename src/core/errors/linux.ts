import { defineErrors } from "./types.js";

/**
 * Linux-target errors (code range: CODE_RANGES in index.ts): kgdboe provisioning over SSH. Facts and fixes come from
 * sysprogs/kgdboe at d4b4f22 and the kernel's kgdb documentation.
 *
 * E300–E319: probe / pre-flight stops. E320–E349: module load failures (classifyModuleLoadFailure maps kernel
 * and kgdboe text to these). E350–E379: apply / verify / teardown steps.
 */
export const linuxErrors = defineErrors({
  E300: {
    title: "Kernel built without KGDB",
    exit: "check",
    message: (p: { release?: string; source: string }) =>
      `The running kernel${p.release ? ` ${p.release}` : ""} is built without KGDB (${p.source} says CONFIG_KGDB is not set), so kgdboe cannot be built or loaded on it. Nothing was changed.`,
    fix: () =>
      "Boot a kernel with CONFIG_KGDB=y, CONFIG_NETPOLL=y, CONFIG_TRACEPOINTS=y and CONFIG_KALLSYMS_ALL=y: Ubuntu's stock kernels have KGDB, Debian's do not (for others, /boot/config-$(uname -r) says) — rebuild yours (e.g. from linux-source with those options), install it, reboot, then run setup again.",
  },
  E301: {
    title: "Kernel lacks options kgdboe needs",
    exit: "check",
    message: (p: { release: string; missing: string[] }) =>
      `The running kernel ${p.release} lacks ${p.missing.join(", ")}, which kgdboe needs. Nothing was changed.`,
    fix: (p: { missing: string[] }) =>
      `Rebuild the kernel with ${p.missing.map((m) => `${m}=y`).join(" ")} (NETPOLL comes with NETCONSOLE, TRACEPOINTS with FTRACE), boot it, then run setup again.`,
  },
  E302: {
    title: "Kernel configuration not found",
    exit: "check",
    message: (p: { release: string }) =>
      `netdbg found no configuration for the running kernel ${p.release} (/boot/config-${p.release}, /proc/config.gz and /lib/modules/${p.release}/build/.config are all missing).`,
    fix: () =>
      "Install the kernel headers for the running kernel (they carry its .config), or copy its config to /boot/config-$(uname -r), then run setup again.",
  },
  E303: {
    title: "Kernel lockdown is on",
    exit: "check",
    message: (p: { mode: string; secureBoot: string }) =>
      `Kernel lockdown is '${p.mode}' (Secure Boot: ${p.secureBoot}): under lockdown the kernel refuses unsigned modules and turns kgdb into kdb-only, so a debugger cannot attach even with a signed kgdboe. Nothing was changed.`,
    fix: () =>
      "Turn Secure Boot off in the firmware settings (or run 'mokutil --disable-validation' and confirm at the next boot), boot without lockdown= on the command line, check that /sys/kernel/security/lockdown reads [none], then run setup again.",
  },
  E304: {
    title: "Kernel headers or toolchain missing",
    exit: "check",
    message: (p: { release: string; missing: string[] }) =>
      `The target cannot build kgdboe for ${p.release}: ${p.missing.join(", ")} missing. Nothing was changed.`,
    fix: (p: { install: string }) =>
      `Run setup again with --install-deps (netdbg runs '${p.install}' and undoes it on teardown), or install them yourself.`,
  },
  E305: {
    title: "No package manager to install dependencies",
    exit: "check",
    message: (p: { distro: string; missing: string[] }) =>
      `netdbg does not know how to install ${p.missing.join(", ")} on this target (${p.distro}).`,
    fix: () =>
      "Install the headers for the running kernel (so /lib/modules/$(uname -r)/build exists), gcc and make by hand, then run setup again.",
  },
  E306: {
    title: "No usable NIC",
    exit: "check",
    message: (p: { reason: string }) => `netdbg cannot pick the target NIC for kgdboe: ${p.reason}.`,
    fix: (p: { candidates: string[] }) =>
      p.candidates.length
        ? `Name one with --nic (usable here: ${p.candidates.join(", ")}) and run setup again.`
        : "Give the target a wired Ethernet NIC with an IPv4 address (not Wi-Fi, USB, bond or bridge member), then run setup again.",
  },
  E307: {
    title: "NIC cannot carry kgdboe",
    exit: "check",
    message: (p: { nic: string; reason: string }) => `The NIC '${p.nic}' cannot carry kgdboe: ${p.reason}.`,
    fix: (p: { candidates: string[] }) =>
      p.candidates.length
        ? `Pick another with --nic (usable here: ${p.candidates.join(", ")}).`
        : "Use a wired Ethernet NIC that is not a bond slave or bridge port, with an IPv4 address.",
  },
  E308: {
    title: "kallsyms_lookup_name address unreadable",
    exit: "check",
    message: (p: { kptrRestrict: string }) =>
      `The address of kallsyms_lookup_name cannot be read from /proc/kallsyms (kernel.kptr_restrict=${p.kptrRestrict}, or the symbol is missing), and kgdboe refuses to load without it.`,
    fix: () =>
      "Run 'sysctl kernel.kptr_restrict=1' on the target (root then sees real addresses) and make sure setup runs as root or with sudo, then run setup again.",
  },
  E309: {
    title: "KGDB's I/O driver cannot be released",
    exit: "check",
    message: (p: { driver: string; value: string; reason: string }) =>
      `${p.driver} holds KGDB on the target${p.value ? ` ('${p.value}')` : ""}, and KGDB accepts only one I/O driver, so kgdboe cannot register; netdbg cannot release it: ${p.reason}.`,
    fix: (p: { driver: string }) =>
      p.driver === "kgdbdbgp"
        ? "Remove kgdbdbgp=… from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub), reboot, then run setup again."
        : "As root on the target, run 'echo > /sys/module/kgdboc/parameters/kgdboc' and check that the file reads empty; if it does not, drop kgdboc= from the kernel command line and reboot. Then run setup again.",
  },
  E310: {
    title: "kgdboe source cannot be fetched",
    exit: "environment",
    message: (p: { source: string; reason: string }) =>
      `Neither the target nor this host could fetch the kgdboe source from ${p.source}: ${p.reason}.`,
    fix: () =>
      "Give a copy you already have: --kgdboe-source <local-dir|tarball> (a checkout or archive of the kgdboe repository; netdbg uploads it by SFTP), or --kgdboe-source <git-url> of a mirror the target can reach.",
  },
  E311: {
    title: "kgdboe source is not usable",
    exit: "usage",
    message: (p: { source: string; reason: string }) => `The kgdboe source '${p.source}' is not usable: ${p.reason}.`,
    fix: () =>
      "Point --kgdboe-source at a directory or .tar/.tar.gz/.tgz archive holding kgdboe's Makefile and C sources, or at a git URL.",
  },
  E312: {
    title: "kgdboe is already loaded outside netdbg",
    exit: "check",
    message: () => "kgdboe is already loaded on the target, and netdbg's change journal did not load it.",
    fix: () => "Unload it with 'rmmod kgdboe' on the target (after 'detach' in any attached gdb), then run setup again.",
  },
  E313: {
    title: "Invalid setup option for a Linux target",
    exit: "usage",
    message: (p: { option: string; value: string; reason: string }) => `${p.option} '${p.value}' cannot be used: ${p.reason}.`,
    fix: (p: { fix: string }) => p.fix,
  },
  E314: {
    title: "Not root and no sudo",
    exit: "check",
    message: (p: { user: string }) =>
      `The SSH user '${p.user}' is not root and cannot use sudo on the target, and loading a kernel module needs root.`,
    fix: () => "Connect as root (ssh.user in the inventory) or give the user sudo rights, then run setup again.",
  },

  E316: {
    title: "Intel IBT would panic upstream kgdboe",
    exit: "check",
    message: (p: { why: string }) =>
      `This target enforces Intel Indirect Branch Tracking (${p.why}) and its command line has no 'ibt=off': kgdboe calls kernel functions through pointers (upstream at the first debugger poll after loading, not at the load itself), which takes a control-protection fault and can panic the kernel. Nothing was changed.`,
    fix: () =>
      "Boot the target with 'ibt=off' (add it to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub or grub2-mkconfig, reboot), then run setup again.",
  },

  E317: {
    title: "No package for a build dependency",
    exit: "environment",
    message: (p: { what: string; command: string }) =>
      `The target's package sources have no ${p.what}: '${p.command}' found no package for it, so nothing was built or loaded.`,
    fix: (p: { headers: boolean; release: string }) =>
      p.headers
        ? `The running kernel ${p.release} was probably upgraded and the machine not rebooted, or its distribution no longer ships it: reboot into the newest installed kernel and run setup again, or install the headers for ${p.release} by hand (so /lib/modules/${p.release}/build exists).`
        : "Install that compiler from another package source (the kernel's own gcc major version; e.g. a toolchain repository), then run setup again.",
  },

  // ---- module load failures (classifyModuleLoadFailure): kgdboe's own messages, https://github.com/sysprogs/kgdboe ----
  E315: {
    title: "NIC driver has no poll controller",
    exit: "check",
    message: (p: { nic: string; driver: string; how: string }) =>
      `The NIC '${p.nic}' uses the driver '${p.driver}', which has no ndo_poll_controller (${p.how}); upstream kgdboe receives only through that hook while the kernel is stopped, so the first break-in would freeze the target until a reboot. Nothing was changed.`,
    fix: (p: { working: string[] }) =>
      `${p.working.length ? `Pick a NIC whose driver has one with --nic (here: ${p.working.join(", ")}), or u` : "U"}se netdbg's bundled module, which polls the NIC itself: --kgdboe-source bundled.`,
  },
  E320: {
    title: "Module refused by kernel lockdown",
    exit: "check",
    message: (p: { line: string }) => `The kernel refused to load kgdboe because of lockdown: '${p.line}'.`,
    fix: () =>
      "Lockdown also disables kgdb itself, so signing the module is not enough: turn Secure Boot off (or 'mokutil --disable-validation'), boot without lockdown, then run setup again.",
  },
  E321: {
    title: "Module signature rejected",
    exit: "check",
    message: (p: { line: string }) =>
      `The kernel enforces module signatures and rejected kgdboe's (unsigned or untrusted): '${p.line}'.`,
    fix: () =>
      "Boot without module.sig_enforce=1 (or a kernel without CONFIG_MODULE_SIG_FORCE), or sign kgdboe.ko with a key enrolled in MOK (mokutil --import), then run setup again.",
  },
  E322: {
    title: "kallsyms_lookup_name address missing or wrong",
    exit: "check",
    message: (p: { line: string }) => `kgdboe was loaded without a valid kallsyms_lookup_name address: '${p.line}'.`,
    fix: () =>
      "Run setup again: it reads the address from /proc/kallsyms as root at load time (it changes at every boot under KASLR). If it still fails, check kernel.kptr_restrict <= 1.",
  },
  E323: {
    title: "Network device not found",
    exit: "check",
    message: (p: { line: string; device?: string }) =>
      `kgdboe found no network device${p.device ? ` named '${p.device}'` : ""}: '${p.line}'.`,
    fix: () => "Pick an existing NIC with --nic (see 'ip -br link' on the target) and run setup again.",
  },
  E324: {
    title: "NIC has no IPv4 address",
    exit: "check",
    message: (p: { line: string }) => `The kgdboe NIC has no IPv4 address yet: '${p.line}'.`,
    fix: () =>
      "Give the NIC an IPv4 address (wait for DHCP), or pick another with --nic; with --persist the unit waits for network-online.target.",
  },
  E325: {
    title: "NIC already has an rx handler (bridge, bond, macvlan, OVS)",
    exit: "check",
    message: (p: { line: string }) =>
      `kgdboe cannot attach to the NIC because it already belongs to a bridge, bond, macvlan or OVS: '${p.line}'.`,
    fix: () => "Use a NIC that is not enslaved (no master in 'ip -d link'), or take it out of the bridge/bond for debugging.",
  },
  E326: {
    title: "NIC does not support netpoll",
    exit: "check",
    message: (p: { line: string }) => `netpoll refused the NIC (many USB and virtual NICs cannot be polled): '${p.line}'.`,
    fix: () =>
      "Use a PCI Ethernet NIC whose driver has a poll controller (e1000, e1000e, igb, r8169, pcnet32 …) with --nic; on virtio-net and other NICs without one, use netdbg's bundled module (--kgdboe-source bundled).",
  },
  E327: {
    title: "Kernel tracepoints or data symbols missing",
    exit: "check",
    message: (p: { line: string }) => `kgdboe could not find the netif_receive_skb tracepoint: '${p.line}'.`,
    fix: () => "Boot a kernel with CONFIG_TRACEPOINTS=y and CONFIG_KALLSYMS_ALL=y, then run setup again.",
  },
  E328: {
    title: "Kernel symbols kgdboe needs are missing",
    exit: "check",
    message: (p: { line: string }) => `kgdboe could not resolve a kernel symbol it needs: '${p.line}'.`,
    fix: () =>
      "This kernel is newer or configured differently than kgdboe supports: use a kgdboe version made for it (--kgdboe-source), or, for SMP-mode symbols, load with --force-single-core 1.",
  },
  E329: {
    title: "Single-CPU mode impossible without CPU hotplug",
    exit: "check",
    message: (p: { line: string }) => `kgdboe cannot take the other CPUs offline: '${p.line}'.`,
    fix: () => "Boot a kernel with CONFIG_HOTPLUG_CPU=y, or boot with maxcpus=1 (nosmp), then run setup again.",
  },
  E330: {
    title: "SMP-mode driver hooking failed",
    exit: "check",
    message: (p: { line: string }) => `kgdboe could not hook the NIC driver for multi-core mode: '${p.line}'.`,
    fix: () =>
      "Load in single-core mode (--force-single-core 1, the default); multi-core mode needs the NIC driver built as a module.",
  },
  E331: {
    title: "Intel IBT blocks kgdboe",
    exit: "check",
    message: (p: { line: string }) =>
      `The kernel's Indirect Branch Tracking (IBT) stopped an indirect call into kgdboe's code (a control-protection fault): '${p.line}'. The target may need a reboot.`,
    fix: () => "Boot the target with ibt=off on the kernel command line, then run setup again.",
  },
  E332: {
    title: "Another KGDB I/O driver is registered",
    exit: "check",
    message: (p: { line: string }) => `KGDB already has another I/O driver (kgdboc): '${p.line}'.`,
    fix: () =>
      "Clear it with 'echo > /sys/module/kgdboc/parameters/kgdboc' and drop kgdboc= from the kernel command line, then run setup again.",
  },
  E333: {
    title: "Invalid local IP parameter",
    exit: "check",
    message: (p: { line: string }) => `kgdboe rejected its local_ip parameter: '${p.line}'.`,
    fix: () => "Do not pass local_ip (it is ignored by kgdboe anyway); make the wanted address the NIC's first IPv4 address.",
  },
  E334: {
    title: "Module parameters rejected",
    exit: "check",
    message: (p: { line: string }) => `The kernel rejected kgdboe's parameters: '${p.line}'.`,
    fix: () => "Run setup again with --verbose to see the exact insmod line, and check --nic and --force-single-core.",
  },
  E335: {
    title: "Module built for another kernel",
    exit: "check",
    message: (p: { line: string }) => `The kgdboe module does not match the running kernel: '${p.line}'.`,
    fix: () => "Run setup again: netdbg rebuilds kgdboe against the running kernel's headers.",
  },
  E339: {
    title: "Unrecognized module load failure",
    exit: "check",
    message: (p: { line: string }) => `Loading kgdboe failed with a message netdbg does not know: '${p.line}'.`,
    fix: () =>
      "Read the kernel log on the target ('dmesg | tail -n 50') for the cause; please report this message so netdbg learns it.",
  },

  // ---- apply / verify / teardown ----
  E350: {
    title: "Remote step failed",
    exit: "environment",
    message: (p: { step: string; command: string; exitCode: number | string; stderrTail: string }) =>
      `Step '${p.step}' failed on the target: '${p.command}' exited ${p.exitCode}${p.stderrTail ? `: ${p.stderrTail}` : "."}`,
    fix: (p: { fix?: string }) =>
      p.fix ?? "Fix the cause shown above and run setup again: netdbg resumes from its change journal.",
  },
  E351: {
    title: "Remote step timed out",
    exit: "environment",
    message: (p: { step: string; command: string; seconds: number }) =>
      `Step '${p.step}' did not finish within ${p.seconds} s on the target: '${p.command}'.`,
    fix: () =>
      "Check that the target is responsive (load, network), then run setup again: netdbg resumes from its change journal.",
  },
  E352: {
    title: "kgdboe build failed",
    exit: "environment",
    message: (p: { release: string; tail: string }) => `Building kgdboe against ${p.release} failed: ${p.tail}`,
    fix: () =>
      "Check that the headers match the running kernel and the compiler is the one the kernel was built with; a kgdboe version made for this kernel may be needed (--kgdboe-source).",
  },
  E353: {
    title: "kgdboe loaded but did not report success",
    exit: "check",
    message: (p: { detail: string }) => `kgdboe is loaded but the kernel log does not show it ready: ${p.detail}.`,
    fix: () => "Read 'dmesg | grep -i kgdb' on the target; run 'netdbg teardown' and setup again.",
  },
  E354: {
    title: "Module busy: a debugger is attached",
    exit: "check",
    message: () => "kgdboe cannot be unloaded: a debugger is attached to it (/sys/module/kgdboe/refcnt is not 0).",
    fix: () => "Type 'detach' in the attached gdb (or quit netdbg connect), then run teardown again.",
  },
  E355: {
    title: "Persistence needs systemd",
    exit: "check",
    message: () => "--persist installs a systemd unit, but the target does not run systemd.",
    fix: () => "Run setup without --persist, and load kgdboe after each boot by running setup again.",
  },
  E358: {
    title: "kgdboe did not answer an RSP check",
    exit: "environment",
    message: (p: { endpoint: string; seconds: number; diagnosis: string }) =>
      `kgdboe is loaded, but a GDB remote-protocol check from this host to ${p.endpoint} got no complete answer within ${p.seconds} s (${p.diagnosis}). Setup is done; a debugger may still not get through.`,
    fix: (p: { target: string }) =>
      `Likely causes: the host firewall drops the UDP replies, the kgdboe on the target does not answer (a build that does not speak RSP, or the wrong NIC), or the port is not the one kgdboe listens on (or a NAT in between does not forward it). Run 'netdbg doctor ${p.target}' to check them one by one, or skip this check with --no-rsp-verify.`,
  },
  E359: {
    title: "kgdboe answered but did not confirm the detach",
    exit: "environment",
    message: (p: { endpoint: string; detail: string }) =>
      `kgdboe at ${p.endpoint} answered the RSP check (the kernel stopped), but did not confirm the detach: ${p.detail}. The target kernel may still be stopped in the debugger.`,
    fix: (p: { target: string }) =>
      `Resume it: run 'netdbg connect ${p.target} --exec detach' (or attach gdb and type 'detach'); then run 'netdbg doctor ${p.target}'.`,
  },
  E356: {
    title: "Bootloader not supported by --apply-cmdline",
    exit: "check",
    message: (p: { bootloader: string; params: string[] }) =>
      `--apply-cmdline cannot add ${p.params.join(" ")} to the kernel command line: the target boots with ${p.bootloader}, which netdbg does not edit. Nothing was changed.`,
    fix: (p: { params: string[] }) =>
      `Add ${p.params.join(" ")} to the kernel command line by hand (systemd-boot: /etc/kernel/cmdline and the 'options' line of the loader entries), reboot, then run setup without --apply-cmdline.`,
  },
  E357: {
    title: "GRUB defaults file cannot be edited safely",
    exit: "check",
    message: (p: { file: string; variable: string; line: string }) =>
      `${p.file} sets ${p.variable} with shell expansion, escapes or commands ('${p.line}'), so netdbg will not rewrite it. Nothing was changed.`,
    fix: (p: { file: string }) =>
      `Add the kernel parameters to GRUB_CMDLINE_LINUX in ${p.file} by hand and regenerate the GRUB config (update-grub or grub-mkconfig), or make the line a plain quoted list and run setup again.`,
  },
});
