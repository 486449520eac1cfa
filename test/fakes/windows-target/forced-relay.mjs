/**
 * sshd's ForceCommand for the Windows target model behind a REAL OpenSSH sshd (see forced-model.ts). sshd runs it
 * as the throwaway test user for every exec request, with the client's command line in SSH_ORIGINAL_COMMAND and
 * its stdin on ours. It hands both to the model served by the test process over a Unix socket and writes back the
 * exact stdout / stderr bytes and exit code. A "dropped" answer (an injected failure after the change is made)
 * ends with exit 255 and no output, which is what the client sees when the SSH connection dies mid-command.
 *   ForceCommand <node> forced-relay.mjs <model.sock>
 * Plain JavaScript with node's own modules only: it is copied beside the sshd and must run without this clone,
 * which the test user may not be able to reach (a clone under a mode-0700 directory).
 */
import { connect } from "node:net";

const sock = process.argv[2];
if (!sock) {
  process.stderr.write("usage: forced-relay.mjs <model.sock>\n");
  process.exit(64);
}
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = Buffer.concat(chunks).toString("utf8");
const call = { commandLine: process.env.SSH_ORIGINAL_COMMAND ?? "", ...(input === "" ? {} : { input }) };
try {
  const reply = await new Promise((resolve, reject) => {
    const s = connect(sock);
    let buf = "";
    s.setEncoding("utf8");
    s.on("data", (d) => {
      buf += d;
    });
    s.on("end", () => resolve(JSON.parse(buf)));
    s.on("error", reject);
    s.write(`${JSON.stringify(call)}\n`);
  });
  if (reply.dropped) {
    process.exitCode = 255;
  } else {
    process.stdout.write(Buffer.from(reply.stdout, "base64"));
    process.stderr.write(Buffer.from(reply.stderr, "base64"));
    process.exitCode = reply.exitCode;
  }
} catch (e) {
  process.stderr.write(`forced-relay: ${String(e)}\n`);
  process.exitCode = 70;
}
