/**
 * A spinner on a terminal while a command waits for a target: what it waits for, what it tries, and the
 * elapsed time, on one stderr line that it clears before anyone else writes. It stops for good at the first
 * output on stdout (the debugger is attached: results or the prompt follow) or when stopped.
 */
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Spinner {
  stop(): void;
}

type Write = typeof process.stdout.write;

export function startWaitSpinner(
  text: (elapsedSeconds: number) => string,
  streams: { out: NodeJS.WriteStream; err: NodeJS.WriteStream } = { out: process.stdout, err: process.stderr },
  intervalMs = 100,
): Spinner {
  const { out, err } = streams;
  const origOut: Write = out.write;
  const origErr: Write = err.write;
  const t0 = performance.now();
  let frame = 0;
  let shown = false;
  let stopped = false;
  const clear = () => {
    if (shown) origErr.call(err, "\r\x1b[2K");
    shown = false;
  };
  const draw = () => {
    const line = `${FRAMES[frame++ % FRAMES.length]} ${text((performance.now() - t0) / 1000)}`;
    const cols = err.columns ?? 80;
    origErr.call(err, `\r\x1b[2K${line.length > cols - 1 ? `${line.slice(0, cols - 2)}…` : line}`);
    shown = true;
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    clear();
    out.write = origOut;
    err.write = origErr;
  };
  // anyone else's line goes above the spinner; the first stdout output ends it
  err.write = ((...args: Parameters<Write>) => {
    clear();
    return origErr.apply(err, args);
  }) as Write;
  out.write = ((...args: Parameters<Write>) => {
    stop();
    return origOut.apply(out, args);
  }) as Write;
  const timer = setInterval(draw, intervalMs);
  timer.unref();
  draw();
  return { stop };
}
