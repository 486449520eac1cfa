import { defineErrors } from "./types.js";

/**
 * SSH transport errors. Code range: CODE_RANGES in index.ts.
 * Connection errors name user, host and port ("kd@10.0.0.5 port 22"), plus the jump host when the failing hop
 * is reached through ProxyJump. Exec errors name the step and the exact command with its stderr tail.
 */

export interface SshHop {
  host: string;
  user: string;
  port: number;
  /** "via bastion" when the hop was reached through ProxyJump. */
  via?: string;
}

const at = (p: SshHop) => `${p.user}@${p.host} port ${p.port}${p.via ? ` (via ${p.via})` : ""}`;
const hostPort = (p: { host: string; port: number }) => (p.port === 22 ? p.host : `[${p.host}]:${p.port}`);

export const sshErrors = defineErrors({
  E800: {
    title: "SSH authentication failed",
    exit: "environment",
    message: (p: SshHop & { tried: string[] }) =>
      `SSH login to ${at(p)} was refused: no offered credential was accepted (tried: ${p.tried.length ? p.tried.join(", ") : "nothing"}).`,
    fix: (p: SshHop) =>
      `Put your public key into ~${p.user}/.ssh/authorized_keys on ${p.host} (e.g. 'ssh-copy-id -p ${p.port} ${p.user}@${p.host}'), or name the right key as ssh.identityFile in the inventory or IdentityFile in ~/.ssh/config, or load it into ssh-agent; a key with a passphrase is asked for on a terminal, elsewhere load it with 'ssh-add <file>'; check the user name too.`,
  },
  E801: {
    title: "SSH server not reachable",
    exit: "environment",
    message: (p: SshHop & { reason: string }) => `Cannot open a TCP connection to the SSH server for ${at(p)}: ${p.reason}.`,
    fix: (p: SshHop & { errno?: string }) =>
      p.errno === "ECONNREFUSED"
        ? `Nothing listens on port ${p.port} of ${p.host}: start the SSH server there (Linux: 'systemctl start ssh' or 'sshd'; Windows: 'Start-Service sshd'), or correct the port (ssh.port in the inventory, Port in ~/.ssh/config).`
        : p.errno === "ENOTFOUND" || p.errno === "EAI_AGAIN"
          ? `The name '${p.host}' does not resolve: correct the address / HostName, or use the IP address.`
          : `Check that ${p.host} is up and that no firewall blocks TCP port ${p.port} between here and there.`,
  },
  E802: {
    title: "SSH handshake failed",
    exit: "environment",
    message: (p: SshHop & { reason: string }) => `The SSH handshake with ${at(p)} failed: ${p.reason}.`,
    fix: () =>
      "The server and netdbg share no key-exchange, cipher or host-key algorithm, or the server closed the connection (MaxStartups, AllowUsers, a TCP wrapper): check the server's log (journalctl -u ssh, or the Windows OpenSSH event log).",
  },
  E803: {
    title: "SSH connection timed out",
    exit: "environment",
    message: (p: SshHop & { seconds: number }) =>
      `The SSH server for ${at(p)} did not complete the handshake within ${p.seconds} s.`,
    fix: (p: SshHop) =>
      `Check that ${p.host} is up and that port ${p.port} really is an SSH server (not a firewall silently dropping packets).`,
  },
  E804: {
    title: "Unknown SSH host key not accepted",
    exit: "environment",
    message: (p: { host: string; port: number; keyType: string; fingerprint: string }) =>
      `The SSH host key of ${hostPort(p)} is not known yet: ${p.keyType} ${p.fingerprint}. netdbg did not connect.`,
    fix: () =>
      "Compare that fingerprint with the target's own ('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' on Linux, 'ssh-keygen -lf $env:ProgramData\\ssh\\ssh_host_ed25519_key.pub' on Windows); if they match, answer yes when asked or run again with --accept-new-host-key.",
  },
  E805: {
    title: "SSH host key changed",
    exit: "environment",
    message: (p: { host: string; port: number; keyType: string; fingerprint: string; file: string; line: number }) =>
      `The SSH host key of ${hostPort(p)} is not the one recorded in ${p.file} line ${p.line}: the server now presents ${p.keyType} ${p.fingerprint}. netdbg refused to connect: this is what a man-in-the-middle attack looks like.`,
    fix: (p: { host: string; port: number; file: string }) =>
      `If the target was reinstalled or its keys regenerated on purpose, remove the old key with 'ssh-keygen -R '${hostPort(p)}' -f ${p.file}' and connect again (you will be shown the new fingerprint); otherwise find out who changed it first.`,
  },
  E806: {
    title: "Remote command failed",
    exit: "environment",
    message: (p: { step: string; host: string; command: string; exitCode: number; stderrTail: string }) =>
      `Step '${p.step}' failed on ${p.host}: '${p.command}' exited with ${p.exitCode}${p.stderrTail ? `: ${p.stderrTail}` : " and printed nothing on stderr."}`,
    fix: (p: { fix?: string }) => p.fix ?? "Read the command's error above, fix its cause on the target, and run netdbg again.",
  },
  E807: {
    title: "Remote command timed out",
    exit: "environment",
    message: (p: { step: string; host: string; command: string; seconds: number; stderrTail: string }) =>
      `Step '${p.step}' timed out on ${p.host}: '${p.command}' did not finish within ${p.seconds} s and was stopped${p.stderrTail ? `; its last stderr: ${p.stderrTail}` : "."}`,
    fix: () =>
      "Check whether the command waits for input or a lock on the target (another package manager, a prompt), then run netdbg again.",
  },
  E808: {
    title: "SSH connection lost",
    exit: "environment",
    message: (p: { step: string; host: string; command: string; reason: string }) =>
      `The SSH connection to ${p.host} broke during step '${p.step}' ('${p.command}'): ${p.reason}. Whether the command completed is unknown.`,
    fix: () =>
      "Check the network and the target (a reboot, a NIC reconfigured under the session), then run netdbg again: setup converges from where it stopped.",
  },
  E809: {
    title: "SFTP transfer failed",
    exit: "environment",
    message: (p: { op: "upload" | "download"; host: string; path: string; reason: string }) =>
      `SFTP ${p.op} of ${p.path} on ${p.host} failed: ${p.reason}.`,
    fix: (p: { op: "upload" | "download"; user: string }) =>
      p.op === "upload"
        ? `Check that the directory exists and that ${p.user} may write there (upload to a temporary directory and move it with sudo if it needs root).`
        : `Check that the file exists and that ${p.user} may read it.`,
  },
  E810: {
    title: "SFTP not available",
    exit: "environment",
    message: (p: { host: string; reason: string }) => `The SSH server on ${p.host} refused the SFTP subsystem: ${p.reason}.`,
    fix: () =>
      "Enable it in sshd_config ('Subsystem sftp internal-sftp' or the sftp-server path) and restart the SSH server; a ForceCommand also blocks SFTP.",
  },
  E811: {
    title: "sudo needs a password",
    exit: "usage",
    message: (p: { host: string; user: string }) =>
      `sudo on ${p.host} asks ${p.user} for a password, and netdbg has none to give (it is not running interactively).`,
    fix: (p: { user: string }) =>
      `Run netdbg in a terminal to be asked for it once, connect as root, or allow ${p.user} passwordless sudo on the target ('${p.user} ALL=(ALL) NOPASSWD: ALL' in a file under /etc/sudoers.d/).`,
  },
  E812: {
    title: "sudo password rejected",
    exit: "usage",
    message: (p: { host: string; user: string }) => `sudo on ${p.host} rejected the password given for ${p.user}.`,
    fix: () =>
      "Run again and type the target user's own login password (not root's); after several failures the account may be locked for a while (faillock).",
  },
  E813: {
    title: "User may not use sudo",
    exit: "usage",
    message: (p: { host: string; user: string; stderrTail: string }) =>
      `${p.user} may not run commands as root with sudo on ${p.host}: ${p.stderrTail}`,
    fix: (p: { user: string }) =>
      `Add ${p.user} to the sudo (Debian/Ubuntu) or wheel (Fedora/RHEL/SUSE/Arch) group, or connect as root (ssh.user in the inventory).`,
  },
  E814: {
    title: "sudo missing on target",
    exit: "environment",
    message: (p: { host: string; user: string }) => `${p.user} is not root on ${p.host}, and sudo is not installed there.`,
    fix: () => "Install sudo on the target (package 'sudo') and allow the user to use it, or connect as root.",
  },
  E815: {
    title: "sudo needs a terminal",
    exit: "environment",
    message: (p: { host: string }) =>
      `sudo on ${p.host} insists on a terminal ('Defaults requiretty'), which netdbg does not allocate.`,
    fix: (p: { user: string }) =>
      `Add 'Defaults:${p.user} !requiretty' in a file under /etc/sudoers.d/ on the target (with visudo), or connect as root.`,
  },
  E816: {
    title: "SSH identity file unusable",
    exit: "usage",
    message: (p: { file: string; reason: string }) => `The SSH identity file ${p.file} cannot be used: ${p.reason}.`,
    fix: () =>
      "Point ssh.identityFile (inventory) or IdentityFile (~/.ssh/config) at an existing private key; a key with a passphrase is asked for on a terminal; in scripts load it into ssh-agent ('ssh-add <file>').",
  },
  E817: {
    title: "SSH client configuration not usable",
    exit: "usage",
    message: (p: { file: string; problem: string }) => `The SSH client configuration ${p.file} cannot be used: ${p.problem}.`,
    fix: (p: { file: string }) => `Fix ${p.file} (see 'man ssh_config'); 'ssh -G <host>' shows how OpenSSH reads it.`,
  },
  E818: {
    title: "SSH host key revoked",
    exit: "environment",
    message: (p: { host: string; port: number; fingerprint: string; file: string; line: number }) =>
      `The SSH host key of ${hostPort(p)} (${p.fingerprint}) is marked @revoked in ${p.file} line ${p.line}. netdbg refused to connect.`,
    fix: () => "Replace the target's host keys, or remove the @revoked line if the revocation was a mistake.",
  },
  E819: {
    title: "SSH session already closed",
    exit: "internal",
    message: (p: { host: string; what: string }) => `netdbg tried to ${p.what} on ${p.host} after closing the SSH session.`,
    fix: () => "This is a bug in netdbg: please report it with the command you ran.",
  },
  E820: {
    title: "Cannot record SSH host key",
    exit: "environment",
    message: (p: { name: string; file: string; reason: string }) =>
      `The SSH host key of ${p.name} was accepted but cannot be recorded in ${p.file}: ${p.reason}. netdbg did not connect.`,
    fix: (p: { file: string }) =>
      `Make ${p.file} (and its directory) writable by you, or point netdbg at another known_hosts file.`,
  },
  E821: {
    title: "SSH server refused a channel",
    exit: "environment",
    message: (p: { step: string; host: string; command: string; reason: string }) =>
      `The SSH server on ${p.host} refused to open a channel for step '${p.step}' ('${p.command}'): ${p.reason}. The command did not run.`,
    fix: () =>
      "Too many commands may be open on one connection (sshd's MaxSessions, default 10), or the server forbids this channel type: raise MaxSessions in sshd_config or run fewer commands at once.",
  },
});
