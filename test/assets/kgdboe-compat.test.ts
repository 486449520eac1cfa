/**
 * The bundled module's SMP and lifetime rules, read from its source (the lab suite builds and runs it for real on
 * a 2-CPU virtio guest; these checks pin the rules on every machine, including the kernel-version guards that a
 * single lab kernel cannot exercise).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const src = readFileSync(new URL("../../assets/kgdboe-compat/kgdboe.c", import.meta.url), "utf8");

/** The body of a C function defined at the start of a line (up to the first closing brace at column 0). */
function body(name: string): string {
  const start = src.search(new RegExp(`^[a-z_ *]*\\b${name}\\([^;{]*\\)\\n\\{`, "m"));
  expect(start, name).toBeGreaterThanOrEqual(0);
  const end = src.indexOf("\n}\n", start);
  return src.slice(start, end);
}

describe("kgdboe-compat (assets/kgdboe-compat/kgdboe.c)", () => {
  it("drops every frame that is not its datagram while the kernel is stopped, and passes them on otherwise", () => {
    const foreign = body("compat_foreign");
    expect(foreign).toMatch(/if \(!READ_ONCE\(in_debugger\)\)\s*return RX_HANDLER_PASS;/);
    expect(foreign).toContain("dev_kfree_skb_any(skb)");
    const handler = body("compat_rx_handler");
    expect(handler).not.toContain("return RX_HANDLER_PASS");
    expect(handler.match(/return compat_foreign\(skb\);/g)?.length).toBe(5);
  });

  it("queues datagrams in claimed slots (cmpxchg), so several producing CPUs never share one", () => {
    const q = body("rx_queue");
    expect(q).toMatch(/atomic_cmpxchg\(&slot->state, SLOT_FREE, SLOT_WRITING\) != SLOT_FREE/);
    expect(q).toMatch(/atomic_set_release\(&slot->state, SLOT_READY\)/);
    expect(body("compat_read_char")).toContain("rx_oldest()");
    expect(src).not.toMatch(/rx_head|rx_tail/);
  });

  it("drops what was queued before a request to stop the kernel, and stops it even when the ring is full", () => {
    const dg = body("rx_datagram");
    // the queueing result must not decide whether the kernel is stopped
    expect(dg).not.toMatch(/if \(!rx_queue\([^)]*\)\)\s*return;/);
    expect(dg).toMatch(/atomic_set\(&rx_floor, \(int\)seq\);\s*schedule_work\(&compat_break_work\);/);
    expect(body("rx_oldest")).toMatch(
      /\(int\)\(slot->seq - floor\) < 0\) \{\s*atomic_set_release\(&slot->state, SLOT_FREE\);\s*continue;/,
    );
  });

  it("with no debugger connected only a session's first packet (qSupported) or 0x03 stops the kernel", () => {
    const dg = body("rx_datagram");
    expect(src).toContain('static const char session[] = "$qSupported";');
    expect(dg).toMatch(/if \(has_break \|\| \(!kgdb_connected && starts_session\)\) \{/);
    // not "any datagram but a lone ack": a "$D#44" retransmitted after a detach would stop the kernel for nobody
    expect(dg).not.toMatch(/!kgdb_connected && !ack_only/);
  });

  it("frames its replies and hands them to the driver itself (no netpoll_send_udp, no netpoll queue for later)", () => {
    const code = src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    expect(code).not.toMatch(/netpoll_send_udp\(/);
    // netpoll_send_skb() queues every frame behind one it could not send, until a work item runs after the stop
    expect(code).not.toMatch(/netpoll_send_skb\(/);
    const xmit = body("compat_xmit");
    expect(xmit).toMatch(
      /if \(__netif_tx_trylock\(txq\)\) \{\s*if \(!netif_xmit_stopped\(txq\)\)\s*rc = netdev_start_xmit\(skb, dev, txq, false\);/,
    );
    expect(xmit).toMatch(/for \(tries = 0; tries < \d+; tries\+\+\)/);
    expect(xmit).toContain("dev_kfree_skb_any(skb);");
    const send = body("compat_send_udp");
    expect(send).toContain("compat_xmit(skb);");
    expect(send).toContain("csum_tcpudp_magic(");
    expect(send).toContain("ip_fast_csum(");
    expect(body("compat_flush")).toContain("compat_send_udp(tx_buf, tx_len)");
  });

  it("polls only a NIC that is up and present, and NAPI instances no CPU is polling and not being disabled", () => {
    const poll = body("compat_poll");
    expect(poll).toMatch(/!netif_running\(compat_dev\) \|\| !netif_device_present\(compat_dev\)\)\s*return;/);
    expect(poll).toMatch(/test_bit\(NAPI_STATE_DISABLE, &napi->state\)\)\s*continue;/);
    expect(poll).toMatch(/cmpxchg\(&napi->poll_owner, -1, cpu\) != -1\)\s*continue;/);
    expect(poll).toContain("test_and_set_bit(NAPI_STATE_NPSVC, &napi->state)");
  });

  it("before the round-up, waits a bounded while for the NIC's polls and transmits, and holds them until its first I/O", () => {
    expect(body("compat_pre_exception")).toContain("compat_hold_nic();");
    const hold = body("compat_hold_nic");
    // a NAPI instance is recorded only when this CPU took it (never one it was already polling when stopped)
    expect(hold).toMatch(/if \(cmpxchg\(&napi->poll_owner, -1, cpu\) == -1\) \{\s*held_napi\[held_napis\+\+\] = napi;/);
    expect(hold).toMatch(/while \(!__netif_tx_trylock\(txq\)\) \{\s*if \(\+\+waited >= HELD_WAIT_US\)/);
    expect(hold).toMatch(/\+\+waited >= HELD_WAIT_US\)\s*break;/);
    const rel = body("compat_release_nic");
    expect(rel).toMatch(/held_cpu != smp_processor_id\(\)\)\s*return;/);
    expect(rel).toContain("__netif_tx_unlock(held_txq[i])");
    expect(rel).toContain("smp_store_release(&held_napi[i]->poll_owner, -1)");
    expect(body("compat_read_char")).toMatch(/^[^\n]*\n\{\n\tint c;\n\n\tcompat_release_nic\(\);/);
    expect(body("compat_flush")).toMatch(/\{\n\tcompat_release_nic\(\);/);
  });

  it("pins itself while a debugger is connected and unloads in the safe order", () => {
    const post = body("compat_post_exception");
    expect(post).toMatch(/if \(kgdb_connected && !compat_pinned\) \{\s*__module_get\(THIS_MODULE\);/);
    expect(post).toMatch(/else if \(!kgdb_connected && compat_pinned\) \{\s*module_put\(THIS_MODULE\);/);
    const exit = body("compat_exit");
    const order = ["compat_rx_off()", "cancel_work_sync(&compat_break_work)", "kgdb_unregister_io_module(&compat_io)"].map((s) =>
      exit.indexOf(s),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(body("compat_rx_off")).toMatch(/netdev_rx_handler_unregister\(compat_dev\)[\s\S]*synchronize_net\(\)/);
  });

  it("lets go of a NIC that is unregistered (netdev notifier), and ignores the replay at unload", () => {
    const ev = body("compat_netdev_event");
    expect(ev).toMatch(/event != NETDEV_UNREGISTER \|\| compat_unloading/);
    expect(ev).toContain("__netpoll_cleanup(&compat_np)");
    expect(ev).toContain("dev_put(dev)");
    expect(body("compat_init")).toContain("register_netdevice_notifier(&compat_netdev_nb)");
  });

  it("builds from Linux 5.4 to 6.15+: the GRO list in napi->gro, remove_cpu, netdev_put", () => {
    expect(src).toMatch(/#if LINUX_VERSION_CODE >= KERNEL_VERSION\(6, 15, 0\)\n#define COMPAT_GRO\(napi\) \(&\(napi\)->gro\)/);
    expect(body("compat_poll")).not.toMatch(/napi->rx_(count|list)/);
    expect(src).toMatch(/KERNEL_VERSION\(5, 7, 0\)\n\s*remove_cpu\(cpu\);\n#else\n\s*cpu_down\(cpu\);/);
    expect(src).toMatch(
      /KERNEL_VERSION\(5, 17, 0\)\n\s*netdev_put\(compat_np\.dev, &compat_np\.dev_tracker\);\n#else\n\s*dev_put\(compat_np\.dev\);/,
    );
  });
});
