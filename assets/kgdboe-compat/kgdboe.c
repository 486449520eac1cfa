// SPDX-License-Identifier: GPL-2.0
/*
 * kgdboe-compat — a stand-in for sysprogs/kgdboe used by netdbg's tests (CI cannot fetch the real source).
 * Written for netdbg from the behaviour described in sysprogs/kgdboe at d4b4f22 (kgdboe_main.c, netpoll_wrapper.c); no code was
 * copied from kgdboe.
 *
 * WHAT IT DOES (for real, against the running kernel):
 *   - builds as kgdboe.ko with kbuild; refuses to build without CONFIG_KGDB / CONFIG_NETPOLL / CONFIG_TRACEPOINTS
 *     with the same #error text as kgdboe;
 *   - takes kgdboe's parameters with kgdboe's types, defaults and sysfs permissions: device_name (charp, "ens33"),
 *     udp_port (int, 31337), local_ip (charp, validated, otherwise ignored as in kgdboe HEAD), force_single_core
 *     (int, 1), kallsyms_lookup_name_address (ullong, 0, mandatory), support_broadcast_packets (int, 0);
 *   - checks that kallsyms_lookup_name_address really is kallsyms_lookup_name (sprint_symbol), then calls it, as
 *     kgdboe does, to look up the netif_receive_skb tracepoint;
 *   - finds the device, requires an IPv4 address on it, registers an rx_handler on it (so bridge/bond ports fail
 *     with -EBUSY like kgdboe) and sets up a real netpoll named "kgdboe" (so the kernel prints
 *     "netpoll: kgdboe: local IP …" or refuses devices that cannot be polled);
 *   - force_single_core=1 takes every CPU but #0 offline with remove_cpu() (never brought back on unload, as in
 *     kgdboe); force_single_core=0 does NOT hook any driver: with a built-in driver it fails with kgdboe's message
 *     (without kgdboe's crash), otherwise it says that nothing is hooked and that KGDB's own round-up of the
 *     other CPUs is what keeps them away from the NIC while the kernel is stopped;
 *   - registers a KGDB I/O driver named "kgdboe" (so the kernel prints "KGDB: Registered I/O driver kgdboe", and
 *     refuses when kgdboc already holds KGDB) and prints kgdboe's success lines, including
 *     "target remote udp:<ip>:<port>";
 *   - every failure prints kgdboe's exact failure line (prefix "kgdboe: ") and returns kgdboe's errno.
 *
 *   - carries kgdb's GDB remote protocol over UDP on udp_port, written for netdbg (the transport, not kgdboe's
 *     code): an rx_handler takes the datagrams sent to udp_port off eth (any other frame passes on), remembers
 *     the sender (IP, port, MAC) and queues the bytes; while the kernel runs, a datagram other than a single
 *     non-0x03 byte (an ack) stops it through a work item calling kgdb_breakpoint() (once a debugger is
 *     connected, only 0x03 does); inside the debugger, read_char polls the device's NAPI instances the way
 *     netpoll does, but with a small receive budget, and hands their UDP payloads to kgdb; write_char batches
 *     output and flush sends it to the sender with netpoll_send_udp(). post_exception reschedules NAPI so the
 *     interrupts the polls left masked are unmasked by a regular poll.
 *
 * WHAT IT DOES NOT DO: kgdboe's driver hooking for multi-core safety (force_single_core=0 hooks nothing), IPv6,
 * fragmented datagrams, or any promise that a stop inside the network stack itself can be debugged over the
 * same NIC (the same holds for kgdboe). It is a test peer for netdbg; prefer the real kgdboe for real work.
 */
#define pr_fmt(fmt) "kgdboe: " fmt

#include <linux/cpu.h>
#include <linux/etherdevice.h>
#include <linux/inet.h>
#include <linux/inetdevice.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/workqueue.h>
#include <linux/kallsyms.h>
#include <linux/kgdb.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/netpoll.h>
#include <linux/rtnetlink.h>
#include <linux/serial_core.h>
#include <linux/version.h>

#ifndef CONFIG_KGDB
#error Your kernel is built without support for KGDB (kernel debugger). Please rebuild your kernel with CONFIG_KGDB enabled.
#endif
#ifndef CONFIG_NETPOLL
#error kgdboe requires netpoll support. Please enable CONFIG_NETCONSOLE and CONFIG_NETPOLL in your kernel configuration.
#endif
#ifndef CONFIG_TRACEPOINTS
#error kgdboe requires tracepoint support. Please enable CONFIG_TRACEPOINTS in your kernel configuration.
#endif

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kgdboe-compat: parameter- and log-compatible stand-in for kgdboe (netdbg tests), GDB remote protocol over UDP");

static char *device_name = "ens33";
module_param(device_name, charp, 0444);
static int udp_port = 31337;
module_param(udp_port, int, 0444);
static char *local_ip;
module_param(local_ip, charp, 0444);
static int force_single_core = 1;
module_param(force_single_core, int, 0444);
static unsigned long long kallsyms_lookup_name_address;
module_param(kallsyms_lookup_name_address, ullong, 0444);
static int support_broadcast_packets;
module_param(support_broadcast_packets, int, 0664);

static struct net_device *compat_dev;
static bool compat_rx_registered;
static bool compat_np_ready;
static struct netpoll compat_np;

/* ---- the UDP transport ------------------------------------------------------------------------------------ */

#define RX_RING 8192 /* a power of two */
static u8 rx_ring[RX_RING];
static unsigned int rx_head, rx_tail; /* rx_head: next write, rx_tail: next read; single CPU in the debugger */
static u8 tx_buf[1024];
static unsigned int tx_len;
static bool peer_known;
static bool in_debugger;

static void compat_break_fn(struct work_struct *w)
{
	kgdb_breakpoint();
}
static DECLARE_WORK(compat_break_work, compat_break_fn);

static void rx_queue(const u8 *data, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		if (rx_head - rx_tail >= RX_RING)
			return; /* full: the debugger retransmits */
		rx_ring[rx_head++ & (RX_RING - 1)] = data[i];
	}
}

/* one of our datagrams: queue its payload; while the kernel runs, stop it as kgdboe would */
static void rx_datagram(struct sk_buff *skb, const struct iphdr *iph, const struct udphdr *uh, unsigned int off,
			unsigned int len)
{
	u8 buf[256];
	unsigned int done = 0, n;
	bool has_break = false, ack_only = len == 1;

	compat_np.remote_ip.ip = iph->saddr;
	compat_np.remote_port = ntohs(uh->source);
	if (skb_mac_header_was_set(skb))
		memcpy(compat_np.remote_mac, eth_hdr(skb)->h_source, ETH_ALEN);
	peer_known = true;

	while (done < len) {
		n = min_t(unsigned int, len - done, sizeof(buf));
		if (skb_copy_bits(skb, off + done, buf, n))
			return;
		if (memchr(buf, 0x03, n))
			has_break = true;
		if (ack_only && buf[0] == 0x03)
			ack_only = false;
		rx_queue(buf, n);
		done += n;
	}
	if (!in_debugger && (has_break || (!kgdb_connected && !ack_only)))
		schedule_work(&compat_break_work);
}

static rx_handler_result_t compat_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct iphdr _iph, *iph;
	struct udphdr _uh, *uh;
	unsigned int ihl, len;

	if (skb->protocol != htons(ETH_P_IP))
		return RX_HANDLER_PASS;
	iph = skb_header_pointer(skb, 0, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->protocol != IPPROTO_UDP ||
	    (iph->frag_off & htons(0x3fff))) /* IP_MF | IP_OFFSET: a fragment */
		return RX_HANDLER_PASS;
	ihl = iph->ihl * 4;
	uh = skb_header_pointer(skb, ihl, sizeof(_uh), &_uh);
	if (!uh || ntohs(uh->dest) != (u16)udp_port)
		return RX_HANDLER_PASS;
	if (iph->daddr != compat_np.local_ip.ip)
		return RX_HANDLER_PASS;
	len = ntohs(uh->len);
	if (len < sizeof(_uh) || ihl + len > skb->len)
		return RX_HANDLER_PASS;
	rx_datagram(skb, iph, uh, ihl + sizeof(_uh), len - sizeof(_uh));
	consume_skb(skb);
	return RX_HANDLER_CONSUMED;
}

/* inside the debugger nothing runs NAPI for us: poll the device's queues (like netpoll, but with a budget) */
static void compat_poll(void)
{
	struct napi_struct *napi;
	int cpu = smp_processor_id();

	list_for_each_entry(napi, &compat_dev->napi_list, dev_list) {
		if (cmpxchg(&napi->poll_owner, -1, cpu) != -1)
			continue;
		if (!test_and_set_bit(NAPI_STATE_NPSVC, &napi->state)) {
			napi->poll(napi, 16);
			clear_bit(NAPI_STATE_NPSVC, &napi->state);
			/* the GRO "normal" batch would hold our datagrams until a regular poll completes */
			if (napi->rx_count) {
				netif_receive_skb_list(&napi->rx_list);
				INIT_LIST_HEAD(&napi->rx_list);
				napi->rx_count = 0;
			}
		}
		smp_store_release(&napi->poll_owner, -1);
	}
}

static int compat_read_char(void)
{
	if (rx_head == rx_tail)
		compat_poll();
	if (rx_head == rx_tail)
		return NO_POLL_CHAR;
	return rx_ring[rx_tail++ & (RX_RING - 1)];
}

static void compat_flush(void)
{
	if (tx_len && peer_known)
		netpoll_send_udp(&compat_np, tx_buf, tx_len);
	tx_len = 0;
}

static void compat_write_char(u8 c)
{
	tx_buf[tx_len++] = c;
	if (tx_len == sizeof(tx_buf))
		compat_flush();
}

static void compat_pre_exception(void)
{
	in_debugger = true;
}

static void compat_post_exception(void)
{
	struct napi_struct *napi;

	compat_flush();
	in_debugger = false;
	/* a budgeted poll outside softirq leaves the queue's interrupt masked: let a regular poll unmask it */
	list_for_each_entry(napi, &compat_dev->napi_list, dev_list)
		napi_schedule(napi);
}

static struct kgdb_io compat_io = {
	.name = "kgdboe",
	.read_char = compat_read_char,
	.write_char = compat_write_char,
	.flush = compat_flush,
	.pre_exception = compat_pre_exception,
	.post_exception = compat_post_exception,
};

static bool compat_address_is_kallsyms_lookup_name(unsigned long addr)
{
	char sym[KSYM_SYMBOL_LEN];

	if (!addr)
		return false;
	sprint_symbol(sym, addr);
	return strncmp(sym, "kallsyms_lookup_name+0x0/", strlen("kallsyms_lookup_name+0x0/")) == 0;
}

static void compat_cleanup(void)
{
	if (compat_np_ready) {
		netpoll_cleanup(&compat_np);
		compat_np_ready = false;
	}
	if (compat_rx_registered) {
		rtnl_lock();
		netdev_rx_handler_unregister(compat_dev);
		rtnl_unlock();
		compat_rx_registered = false;
	}
	if (compat_dev) {
		dev_put(compat_dev);
		compat_dev = NULL;
	}
}

static int compat_single_core(void)
{
	unsigned int cpu;

	if (num_online_cpus() <= 1) {
		pr_info("only one active CPU found. Skipping core shutdown.\n");
		return 0;
	}
#ifndef CONFIG_HOTPLUG_CPU
	pr_err("failed to enable the single-CPU mode. %d CPUs found and HOTPLUG_CPU is not enabled.\n", num_online_cpus());
	return -EINVAL;
#else
	pr_info("single-core mode enabled. Shutting down all cores except #0. This is slower, but safer.\n");
	pr_info("you can try using multi-core mode by specifying the following argument:\n\tinsmod kgdboe.ko force_single_core = 0\n");
	for (cpu = 1; cpu < nr_cpu_ids; cpu++)
		if (cpu_online(cpu))
			remove_cpu(cpu);
	return 0;
#endif
}

static int compat_smp_mode(void)
{
	struct device *parent = compat_dev->dev.parent;

	pr_info("Trying to synchronize calls to %s between multiple CPU cores...\n", device_name);
	if (!parent || !parent->driver || !parent->driver->owner) {
		pr_err("cannot find the module owning %s. Is the driver built into the kernel?\n", device_name);
		pr_err("failed to guarantee cross-CPU network API synchronization. Aborting. Try enabling single-CPU mode.\n");
		return -EINVAL;
	}
	pr_info("found owner module for %s: %s\n", device_name, parent->driver->owner->name);
	pr_info("multi-core mode: no driver is hooked; while the kernel is stopped KGDB holds the other CPUs, and they run the driver freely otherwise\n");
	return 0;
}

static int __init compat_init(void)
{
	unsigned long (*lookup)(const char *name);
	struct in_device *in_dev;
	struct in_ifaddr *ifa;
	__be32 addr = 0;
	u8 ip_parsed[4];
	int err;

	if (!compat_address_is_kallsyms_lookup_name((unsigned long)kallsyms_lookup_name_address)) {
		pr_err("this kernel version requires specifying the address of kallsyms_lookup_name explicitly. Please append 'kallsyms_lookup_name_address=0x...' to insmod command line.\n");
		return -EINVAL;
	}
	lookup = (unsigned long (*)(const char *))(unsigned long)kallsyms_lookup_name_address;

	if (local_ip && !in4_pton(local_ip, -1, ip_parsed, -1, NULL)) {
		pr_err("Invalid local IP: %s\n", local_ip);
		return -EINVAL;
	}

	compat_dev = dev_get_by_name(&init_net, device_name);
	if (!compat_dev) {
		pr_err("Cannot find network device by name: %s\n", device_name);
		return -EINVAL;
	}

	in_dev = in_dev_get(compat_dev);
	if (!in_dev) {
		pr_err("%s does not have an in_device associated. Cannot get default IP address.\n", device_name);
		err = -EINVAL;
		goto fail;
	}
	rcu_read_lock();
	ifa = rcu_dereference(in_dev->ifa_list);
	if (ifa)
		addr = ifa->ifa_local;
	rcu_read_unlock();
	in_dev_put(in_dev);
	if (!addr) {
		pr_err("%s does not have a in_ifaddr struct associated. Cannot get default IP address.\n", device_name);
		err = -EINVAL;
		goto fail;
	}

	if (!lookup("__tracepoint_netif_receive_skb")) {
		pr_err("Missing tracepoints for netif_receive_skb. Aborting.\n");
		err = -EINVAL;
		goto fail;
	}

	rtnl_lock();
	err = netdev_rx_handler_register(compat_dev, compat_rx_handler, NULL);
	rtnl_unlock();
	if (err) {
		pr_err("Failed to register rx handler for %s, code %d\n", device_name, err);
		goto fail;
	}
	compat_rx_registered = true;

	compat_np.name = "kgdboe";
	strscpy(compat_np.dev_name, device_name, IFNAMSIZ);
	compat_np.local_port = (u16)udp_port;
	compat_np.remote_port = (u16)udp_port;
	eth_broadcast_addr(compat_np.remote_mac);
	err = netpoll_setup(&compat_np);
	if (err) {
		pr_err("Failed to setup netpoll for %s, code %d\n", device_name, err);
		goto fail;
	}
	compat_np_ready = true;

	err = force_single_core ? compat_single_core() : compat_smp_mode();
	if (err)
		goto fail;

	err = kgdb_register_io_module(&compat_io);
	if (err)
		goto fail;

	/* one printk, as kgdboe does: the attach line is a continuation line without the "kgdboe: " prefix */
	pr_info("Successfully initialized. Use the following gdb command to attach:\n\ttarget remote udp:%pI4:%d\n",
		&compat_np.local_ip.ip, udp_port);
	return 0;

fail:
	compat_cleanup();
	return err;
}

static void __exit compat_exit(void)
{
	kgdb_unregister_io_module(&compat_io);
	cancel_work_sync(&compat_break_work);
	compat_cleanup();
}

module_init(compat_init);
module_exit(compat_exit);
