import { Socket } from "node:net";
import { vi } from "vitest";

/**
 * Watch every socket's setNoDelay from now on: `sockets()` are those that turned Nagle's algorithm off
 * (setNoDelay() or setNoDelay(true)); `restore()` ends the watch.
 */
export function watchNoDelay(): { sockets(): Socket[]; restore(): void } {
  const spy = vi.spyOn(Socket.prototype, "setNoDelay");
  return {
    sockets: () => spy.mock.instances.filter((_, i) => spy.mock.calls[i]![0] !== false).map((s) => s as unknown as Socket),
    restore: () => spy.mockRestore(),
  };
}
