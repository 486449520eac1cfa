/** Where netdbg puts things on a Linux target. Every path here is removed again by teardown. */
export const REMOTE_BASE = "/var/lib/netdbg";
export const REMOTE_DIR = "/var/lib/netdbg/kgdboe";
export const REMOTE_SRC = "/var/lib/netdbg/kgdboe/src";
export const REMOTE_MODULE = "/var/lib/netdbg/kgdboe/src/kgdboe.ko";
export const REMOTE_LOADER = "/var/lib/netdbg/kgdboe/load.sh";
export const REMOTE_ENV_DIR = "/etc/netdbg";
export const REMOTE_ENV = "/etc/netdbg/kgdboe.env";
export const UNIT_NAME = "netdbg-kgdboe.service";
export const REMOTE_UNIT = "/etc/systemd/system/netdbg-kgdboe.service";
export const SOURCE_MARK = "/var/lib/netdbg/kgdboe/src/.netdbg-source";
export const BUILT_MARK = "/var/lib/netdbg/kgdboe/src/.netdbg-built";
export const COMMIT_MARK = "/var/lib/netdbg/kgdboe/src/.netdbg-commit";
export const DEFAULT_KGDBOE_GIT = "https://github.com/sysprogs/kgdboe.git";
export const DEFAULT_UDP_PORT = 31337;
