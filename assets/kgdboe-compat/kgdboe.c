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
 *     code): an rx_handler takes the datagrams sent to udp_port off eth, remembers the sender (IP, port, MAC)
 *     and queues each one in a slot of a multi-producer ring (a CPU claims a slot with cmpxchg, so NICs with
 *     several queues polled on several CPUs never share a slot, and a CPU that KGDB rounds up half-way through
 *     a copy leaves only that one slot unreadable, never the ring); while the kernel runs, any other frame
 *     passes on; a 0x03, or with no debugger connected a qSupported packet (how gdb and netdbg open a session),
 *     stops the kernel through a work item calling kgdb_breakpoint(), and what was queued before that request is
 *     dropped as stale (never a retransmitted "$D" or "$c" obeyed at the next stop); while the kernel is stopped,
 *     every frame that is not one of these datagrams is dropped (never handed to the network stack from the
 *     debugger's NMI-like context). Inside the debugger, read_char polls the device's NAPI instances with a
 *     small budget, only those no CPU is polling (netpoll's poll_owner, which the regular NAPI poll also takes
 *     on a device with netpoll) and that are not disabled (NPSVC), and hands their UDP payloads to kgdb;
 *     write_char batches output and flush frames it as one UDP datagram to the sender and hands it to the
 *     driver itself (netpoll's queue for later would hold every reply of the stop). post_exception
 *     reschedules NAPI so the interrupts the polls left masked are unmasked by a regular poll;
 *   - holds a reference on itself while a debugger is connected (kgdb_connected), so rmmod says "in use"
 *     instead of reaching kgdb_unregister_io_module()'s BUG_ON(kgdb_connected); unloads in the safe order
 *     (rx_handler off and synchronize_net(), the break-in work cancelled, then off KGDB); follows the NIC's
 *     removal with a netdev notifier (the NIC's references are dropped, so unregistering it never hangs);
 *   - builds on kernels 5.4 to 6.15+ (the GRO_NORMAL list moved into napi->gro in 6.15; remove_cpu() in 5.7;
 *     netdev_put() with the netpoll's tracker in 5.17).
 *
 * WHAT IT DOES NOT DO: kgdboe's driver hooking for multi-core safety (force_single_core=0 hooks nothing; before
 * KGDB rounds the other CPUs up, pre_exception waits a bounded while for the NIC's polls and transmits under way
 * and holds them off, which fails only when the stopping CPU itself is inside the driver), IPv6, fragmented
 * datagrams, or any promise that a stop inside the network stack itself can be debugged over the same NIC (the
 * same holds for kgdboe).
 */
#define pr_fmt(fmt) "kgdboe: " fmt

#include <linux/cpu.h>
#include <linux/delay.h>
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
#include <net/checksum.h>

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
static bool compat_nb_registered;
static bool compat_unloading; /* unregister_netdevice_notifier() replays NETDEV_UNREGISTER: not a NIC going away */

/* ---- the UDP transport ------------------------------------------------------------------------------------ */

/*
 * Received datagrams, one per slot. Producers: the rx_handler on whichever CPU polls the NIC's queue (several at
 * once on a multi-queue NIC while the kernel runs; only the debugger's CPU while it is stopped). Consumer: the
 * debugger's CPU in read_char. A producer claims the next sequence number, then the slot (FREE -> WRITING with
 * cmpxchg: a slot still in use means the ring is full, and the datagram is dropped; the debugger retransmits),
 * copies, and publishes it (READY, with release order). The consumer takes the READY slot with the lowest
 * sequence number, so a slot left WRITING by a CPU that KGDB rounded up is skipped, not waited for.
 */
#define RX_SLOTS 64 /* a power of two */
#define RX_SLOT_BYTES 1472 /* the UDP payload of an unfragmented datagram on a 1500-byte MTU */
enum { SLOT_FREE, SLOT_WRITING, SLOT_READY };
struct rx_slot {
	atomic_t state;
	unsigned int seq;
	unsigned int len;
	u8 data[RX_SLOT_BYTES];
};
static struct rx_slot rx_slots[RX_SLOTS];
static atomic_t rx_claim = ATOMIC_INIT(0);
/*
 * The sequence number of the datagram that last asked to stop the kernel. Anything queued before it is stale (a
 * retransmitted "$c#63" that arrived after the kernel resumed would otherwise be obeyed at the next stop), so the
 * consumer frees it unread; and a break-in whose slot could not be had still stops the kernel and frees the ring.
 */
static atomic_t rx_floor = ATOMIC_INIT(0);
static struct rx_slot *rx_cur; /* the slot read_char is reading, and where */
static unsigned int rx_off;
static u8 tx_buf[1024];
static unsigned int tx_len;
static bool peer_known;
static bool in_debugger;
static bool compat_pinned;

static void compat_release_nic(void);

static void compat_break_fn(struct work_struct *w)
{
	kgdb_breakpoint();
}
static DECLARE_WORK(compat_break_work, compat_break_fn);

/* copy one datagram's payload into a slot; false when it was dropped (ring full, or the copy failed) */
static bool rx_queue(struct sk_buff *skb, unsigned int off, unsigned int len, unsigned int *pseq)
{
	unsigned int seq = (unsigned int)atomic_inc_return(&rx_claim) - 1;
	struct rx_slot *slot = &rx_slots[seq & (RX_SLOTS - 1)];

	*pseq = seq;
	if (len > RX_SLOT_BYTES)
		return false;
	if (atomic_cmpxchg(&slot->state, SLOT_FREE, SLOT_WRITING) != SLOT_FREE)
		return false;
	if (skb_copy_bits(skb, off, slot->data, len)) {
		atomic_set_release(&slot->state, SLOT_FREE);
		return false;
	}
	slot->seq = seq;
	slot->len = len;
	atomic_set_release(&slot->state, SLOT_READY);
	return true;
}

/* the READY slot with the lowest sequence number (wrap-safe) not older than rx_floor, or NULL; stale ones are freed */
static struct rx_slot *rx_oldest(void)
{
	unsigned int floor = (unsigned int)atomic_read(&rx_floor);
	struct rx_slot *best = NULL;
	unsigned int i;

	for (i = 0; i < RX_SLOTS; i++) {
		struct rx_slot *slot = &rx_slots[i];

		if (atomic_read_acquire(&slot->state) != SLOT_READY)
			continue;
		if ((int)(slot->seq - floor) < 0) {
			atomic_set_release(&slot->state, SLOT_FREE);
			continue;
		}
		if (!best || (int)(slot->seq - best->seq) < 0)
			best = slot;
	}
	return best;
}

/* one of our datagrams: queue its payload; while the kernel runs, stop it as kgdboe would */
static void rx_datagram(struct sk_buff *skb, const struct iphdr *iph, const struct udphdr *uh, unsigned int off,
			unsigned int len)
{
	static const char session[] = "$qSupported";
	bool has_break = false, starts_session = false;
	unsigned int seq, done = 0, n, i;
	u8 buf[64];

	compat_np.remote_ip.ip = iph->saddr;
	compat_np.remote_port = ntohs(uh->source);
	if (skb_mac_header_was_set(skb))
		memcpy(compat_np.remote_mac, eth_hdr(skb)->h_source, ETH_ALEN);
	peer_known = true;

	if (!len)
		return;
	/* a datagram that finds no slot is dropped (the debugger retransmits), but may still stop the kernel below */
	rx_queue(skb, off, len, &seq);
	/* inside the debugger kgdb itself is reading: nothing to start */
	if (READ_ONCE(in_debugger))
		return;
	/*
	 * What stops a running kernel: a 0x03 anywhere, or, with no debugger connected, the packet a debugger opens
	 * with (gdb's and netdbg's first packet is qSupported, after any acks). Not any other packet: a request
	 * retransmitted after the kernel resumed ("$D#44" after a detach) would stop it with nobody listening.
	 */
	while (done < len && !has_break) {
		n = min_t(unsigned int, len - done, sizeof(buf));
		if (skb_copy_bits(skb, off + done, buf, n))
			return;
		has_break = memchr(buf, 0x03, n) != NULL;
		if (!done) {
			for (i = 0; i < n && (buf[i] == '+' || buf[i] == '-'); i++)
				;
			starts_session = n - i >= sizeof(session) - 1 && !memcmp(buf + i, session, sizeof(session) - 1);
		}
		done += n;
	}
	if (has_break || (!kgdb_connected && starts_session)) {
		/* what was queued before this request is stale; it stops the kernel even when the ring was full */
		atomic_set(&rx_floor, (int)seq);
		schedule_work(&compat_break_work);
	}
}

/* not one of our datagrams: pass it on while the kernel runs; while it is stopped, drop it (no stack to hand it to) */
static rx_handler_result_t compat_foreign(struct sk_buff *skb)
{
	if (!READ_ONCE(in_debugger))
		return RX_HANDLER_PASS;
	dev_kfree_skb_any(skb);
	return RX_HANDLER_CONSUMED;
}

static rx_handler_result_t compat_rx_handler(struct sk_buff **pskb)
{
	struct sk_buff *skb = *pskb;
	struct iphdr _iph, *iph;
	struct udphdr _uh, *uh;
	unsigned int ihl, len;

	if (skb->protocol != htons(ETH_P_IP))
		return compat_foreign(skb);
	iph = skb_header_pointer(skb, 0, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->protocol != IPPROTO_UDP ||
	    (iph->frag_off & htons(0x3fff))) /* IP_MF | IP_OFFSET: a fragment */
		return compat_foreign(skb);
	ihl = iph->ihl * 4;
	uh = skb_header_pointer(skb, ihl, sizeof(_uh), &_uh);
	if (!uh || ntohs(uh->dest) != (u16)udp_port)
		return compat_foreign(skb);
	if (iph->daddr != compat_np.local_ip.ip)
		return compat_foreign(skb);
	len = ntohs(uh->len);
	if (len < sizeof(_uh) || ihl + len > skb->len)
		return compat_foreign(skb);
	rx_datagram(skb, iph, uh, ihl + sizeof(_uh), len - sizeof(_uh));
	dev_consume_skb_any(skb);
	return RX_HANDLER_CONSUMED;
}

/* the GRO_NORMAL batch: in struct napi_struct up to 6.14, in its struct gro_node (napi->gro) from 6.15 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#define COMPAT_GRO(napi) (&(napi)->gro)
#else
#define COMPAT_GRO(napi) (napi)
#endif

/*
 * Inside the debugger nothing runs NAPI for us: poll the device's queues (like netpoll, but with a budget). Only a
 * NAPI instance no CPU is polling: on a device with netpoll, the regular poll (softirq, threaded or busy) takes
 * poll_owner too, so a CPU that KGDB stopped in the middle of a poll keeps its instance, and NPSVC is set by
 * napi_disable(), so a disabled instance is left alone.
 */
static void compat_poll(void)
{
	struct napi_struct *napi;
	int cpu = smp_processor_id();

	/* a NIC that is down, going down or unplugged (a stopped CPU may be half-way through closing it): no poll */
	if (!compat_dev || !netif_running(compat_dev) || !netif_device_present(compat_dev))
		return;
	list_for_each_entry(napi, &compat_dev->napi_list, dev_list) {
		/* napi_disable() under way on a stopped CPU: the instance is being taken from its driver */
		if (test_bit(NAPI_STATE_DISABLE, &napi->state))
			continue;
		if (cmpxchg(&napi->poll_owner, -1, cpu) != -1)
			continue;
		if (!test_and_set_bit(NAPI_STATE_NPSVC, &napi->state)) {
			napi->poll(napi, 16);
			clear_bit(NAPI_STATE_NPSVC, &napi->state);
			/* the GRO "normal" batch would hold our datagrams until a regular poll completes */
			if (COMPAT_GRO(napi)->rx_count) {
				netif_receive_skb_list(&COMPAT_GRO(napi)->rx_list);
				INIT_LIST_HEAD(&COMPAT_GRO(napi)->rx_list);
				COMPAT_GRO(napi)->rx_count = 0;
			}
		}
		smp_store_release(&napi->poll_owner, -1);
	}
}

static int compat_read_char(void)
{
	int c;

	compat_release_nic();

	if (!rx_cur) {
		rx_cur = rx_oldest();
		if (!rx_cur) {
			compat_poll();
			rx_cur = rx_oldest();
		}
		if (!rx_cur)
			return NO_POLL_CHAR;
		rx_off = 0;
	}
	c = rx_cur->data[rx_off++];
	if (rx_off >= rx_cur->len) {
		atomic_set_release(&rx_cur->state, SLOT_FREE);
		rx_cur = NULL;
	}
	return c;
}

/*
 * One UDP/IPv4 datagram to the debugger, framed here and handed to the driver by compat_xmit().
 * netpoll_send_udp() is not used: the netpoll
 * "untangle" series (netdev, September 2025, https://lore.kernel.org/netdev/20250902-netpoll_untangle_v3-v1-0-51a03d6411be@debian.org/)
 * moves the UDP framing out of netpoll into netconsole and drops that export.
 * The buffer comes from alloc_skb(GFP_ATOMIC), as netpoll's own framing first tries.
 */
/*
 * Hand a frame to the driver on queue 0. Not netpoll_send_skb(): once netpoll has queued one frame for later (its
 * transmit lock was busy, or the ring full, for a moment), it queues every later one behind it until a work item
 * runs, which never happens while the kernel is stopped: the debugger would hear nothing more for the whole stop
 * (and queueing that work from here takes locks a stopped CPU may hold). So: try the queue's lock and send; when
 * the lock is busy or the ring full, reclaim the ring (compat_poll) and retry a bounded number of times, then drop
 * the frame (the debugger retransmits its request, and kgdb answers again).
 */
static void compat_poll(void);

static void compat_xmit(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	struct netdev_queue *txq = netdev_get_tx_queue(dev, 0);
	netdev_tx_t rc = NETDEV_TX_BUSY;
	int tries;

	skb_set_queue_mapping(skb, 0);
	for (tries = 0; tries < 200; tries++) {
		if (__netif_tx_trylock(txq)) {
			if (!netif_xmit_stopped(txq))
				rc = netdev_start_xmit(skb, dev, txq, false);
			__netif_tx_unlock(txq);
			if (dev_xmit_complete(rc))
				return;
		}
		compat_poll();
		udelay(50);
	}
	dev_kfree_skb_any(skb);
}

static void compat_send_udp(const u8 *data, unsigned int len)
{
	struct net_device *dev = compat_np.dev;
	unsigned int ulen = len + sizeof(struct udphdr);
	unsigned int iplen = ulen + sizeof(struct iphdr);
	static u16 ip_id;
	struct sk_buff *skb;
	struct udphdr *uh;
	struct iphdr *iph;
	struct ethhdr *eth;

	if (!dev)
		return;
	skb = alloc_skb(LL_RESERVED_SPACE(dev) + iplen + dev->needed_tailroom, GFP_ATOMIC);
	if (!skb)
		return;
	skb_reserve(skb, LL_RESERVED_SPACE(dev) + iplen - len);
	skb_put_data(skb, data, len);

	uh = skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh->source = htons(compat_np.local_port);
	uh->dest = htons(compat_np.remote_port);
	uh->len = htons(ulen);
	uh->check = 0;
	uh->check = csum_tcpudp_magic(compat_np.local_ip.ip, compat_np.remote_ip.ip, ulen, IPPROTO_UDP,
				      csum_partial(uh, ulen, 0));
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;

	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	memset(iph, 0, sizeof(*iph));
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tot_len = htons(iplen);
	iph->id = htons(ip_id++);
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = compat_np.local_ip.ip;
	iph->daddr = compat_np.remote_ip.ip;
	iph->check = ip_fast_csum((const void *)iph, iph->ihl);

	eth = skb_push(skb, ETH_HLEN);
	skb_reset_mac_header(skb);
	ether_addr_copy(eth->h_source, dev->dev_addr);
	ether_addr_copy(eth->h_dest, compat_np.remote_mac);
	eth->h_proto = htons(ETH_P_IP);
	skb->protocol = htons(ETH_P_IP);
	skb->dev = dev;
	compat_xmit(skb);
}

static void compat_flush(void)
{
	compat_release_nic();
	if (tx_len && peer_known && compat_np_ready)
		compat_send_udp(tx_buf, tx_len);
	tx_len = 0;
}

static void compat_write_char(u8 c)
{
	tx_buf[tx_len++] = c;
	if (tx_len == sizeof(tx_buf))
		compat_flush();
}

/*
 * KGDB rounds the other CPUs up wherever they are. One stopped inside the NIC's NAPI poll keeps that instance
 * (poll_owner: the debugger may not poll it) and one stopped inside the driver's transmit keeps the queue's lock
 * (netpoll then holds every reply back): either way the debugger hears or says nothing until the kernel runs
 * again. pre_exception runs on the stopping CPU before the round-up, so it waits there, a bounded while, for a
 * poll or a transmit under way to end, and takes each NAPI instance's poll_owner and each transmit queue's lock
 * so no other CPU can be stopped inside them; the debugger's first read or write gives them back, on this CPU,
 * once the others are rounded up. What it cannot take in time (the stopping CPU itself inside the driver, or
 * a CPU that waits for a lock this one holds) it leaves, and that stop is no worse off than without the wait.
 */
#define HELD_MAX 64
#define HELD_WAIT_US 20000 /* for the whole device */
static struct napi_struct *held_napi[HELD_MAX];
static unsigned int held_napis;
static struct netdev_queue *held_txq[HELD_MAX];
static unsigned int held_txqs;
static int held_cpu = -1;

static void compat_hold_nic(void)
{
	struct napi_struct *napi;
	unsigned int i, waited = 0;
	int cpu = smp_processor_id();

	if (!compat_dev || !netif_running(compat_dev))
		return;
	held_napis = 0;
	held_txqs = 0;
	list_for_each_entry(napi, &compat_dev->napi_list, dev_list) {
		if (held_napis == HELD_MAX)
			break;
		for (;;) {
			if (cmpxchg(&napi->poll_owner, -1, cpu) == -1) {
				held_napi[held_napis++] = napi;
				break;
			}
			if (++waited >= HELD_WAIT_US)
				break;
			udelay(1);
		}
	}
	for (i = 0; i < compat_dev->num_tx_queues && held_txqs < HELD_MAX; i++) {
		struct netdev_queue *txq = netdev_get_tx_queue(compat_dev, i);

		while (!__netif_tx_trylock(txq)) {
			if (++waited >= HELD_WAIT_US)
				goto out;
			udelay(1);
		}
		held_txq[held_txqs++] = txq;
	}
out:
	held_cpu = cpu;
}

/* give back what compat_hold_nic() took, on the CPU that took it */
static void compat_release_nic(void)
{
	unsigned int i;

	if (held_cpu < 0 || held_cpu != smp_processor_id())
		return;
	for (i = 0; i < held_txqs; i++)
		__netif_tx_unlock(held_txq[i]);
	for (i = 0; i < held_napis; i++)
		smp_store_release(&held_napi[i]->poll_owner, -1);
	held_txqs = 0;
	held_napis = 0;
	held_cpu = -1;
}

static void compat_pre_exception(void)
{
	WRITE_ONCE(in_debugger, true);
	compat_hold_nic();
}

static void compat_post_exception(void)
{
	struct napi_struct *napi;

	compat_flush();
	/* a debugger that stays connected while the kernel runs pins the module (rmmod: "in use"); a detach unpins */
	if (kgdb_connected && !compat_pinned) {
		__module_get(THIS_MODULE);
		compat_pinned = true;
	} else if (!kgdb_connected && compat_pinned) {
		module_put(THIS_MODULE);
		compat_pinned = false;
	}
	WRITE_ONCE(in_debugger, false);
	if (!compat_dev)
		return;
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

/* rx_handler off, and no CPU still inside it once this returns */
static void compat_rx_off(void)
{
	if (!compat_rx_registered)
		return;
	rtnl_lock();
	if (compat_rx_registered) {
		netdev_rx_handler_unregister(compat_dev);
		compat_rx_registered = false;
	}
	rtnl_unlock();
	synchronize_net();
}

static void compat_cleanup(void)
{
	compat_rx_off();
	if (compat_np_ready) {
		netpoll_cleanup(&compat_np);
		compat_np_ready = false;
	}
	if (compat_dev) {
		dev_put(compat_dev);
		compat_dev = NULL;
	}
}

/*
 * The NIC is being unregistered (driver unloaded, device unplugged): let go of it under the RTNL the notifier
 * runs with, as netconsole does, so unregister_netdevice() does not wait forever for our references. KGDB keeps
 * this I/O driver, which then has no NIC: a stop reads nothing until kgdboe is loaded again.
 */
static int compat_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event != NETDEV_UNREGISTER || compat_unloading || !compat_dev || dev != compat_dev)
		return NOTIFY_DONE;
	pr_warn("%s is going away: the debugger has no NIC until kgdboe is loaded again\n", device_name);
	if (compat_rx_registered) {
		netdev_rx_handler_unregister(dev);
		compat_rx_registered = false;
	}
	if (compat_np_ready) {
		__netpoll_cleanup(&compat_np);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 17, 0)
		netdev_put(compat_np.dev, &compat_np.dev_tracker);
#else
		dev_put(compat_np.dev);
#endif
		compat_np.dev = NULL;
		compat_np_ready = false;
	}
	compat_dev = NULL;
	dev_put(dev);
	return NOTIFY_DONE;
}

static struct notifier_block compat_netdev_nb = {
	.notifier_call = compat_netdev_event,
};

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
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 7, 0)
			remove_cpu(cpu);
#else
			cpu_down(cpu);
#endif
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

	err = register_netdevice_notifier(&compat_netdev_nb);
	if (err)
		goto fail;
	compat_nb_registered = true;

	err = kgdb_register_io_module(&compat_io);
	if (err)
		goto fail;

	/* one printk, as kgdboe does: the attach line is a continuation line without the "kgdboe: " prefix */
	pr_info("Successfully initialized. Use the following gdb command to attach:\n\ttarget remote udp:%pI4:%d\n",
		&compat_np.local_ip.ip, udp_port);
	return 0;

fail:
	compat_unloading = true;
	if (compat_nb_registered) {
		unregister_netdevice_notifier(&compat_netdev_nb);
		compat_nb_registered = false;
	}
	compat_cleanup();
	return err;
}

/* the order matters: no new datagram (and no break-in work) can arrive once KGDB lets go of this driver */
static void __exit compat_exit(void)
{
	compat_unloading = true;
	compat_rx_off();
	cancel_work_sync(&compat_break_work);
	kgdb_unregister_io_module(&compat_io);
	unregister_netdevice_notifier(&compat_netdev_nb);
	compat_cleanup();
}

module_init(compat_init);
module_exit(compat_exit);
