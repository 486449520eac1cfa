#!/bin/sh
# netdbg-params: (none: values come from the environment set by netdbg-kgdboe.service)
# Installed by 'netdbg setup --persist'; removed by 'netdbg teardown'. Loads kgdboe with this boot's
# kallsyms_lookup_name address (field 3 matched exactly, research note A1).
set -eu
if [ -d /sys/module/kgdboe ]; then exit 0; fi
addr=$(awk '$3=="kallsyms_lookup_name"{print $1; exit}' /proc/kallsyms)
case "$addr" in
  "" | *[!0-9a-f]* | 0000000000000000) echo "netdbg-kgdboe: cannot read kallsyms_lookup_name (kernel.kptr_restrict?)" >&2; exit 1 ;;
esac
if [ "${KGDBOE_RELEASE_KGDBOC:-0}" = 1 ] && [ -n "$(cat /sys/module/kgdboc/parameters/kgdboc 2>/dev/null)" ]; then
  echo > /sys/module/kgdboc/parameters/kgdboc
fi
exec insmod "$KGDBOE_MODULE" device_name="$KGDBOE_DEVICE" udp_port="$KGDBOE_UDP_PORT" \
  kallsyms_lookup_name_address="0x$addr" force_single_core="$KGDBOE_FORCE_SINGLE_CORE"
