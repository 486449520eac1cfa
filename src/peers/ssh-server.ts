/**
 * An in-process SSH server (ssh2 `Server`) on 127.0.0.1:0 — the front door of the built-in targets (`netdbg demo`,
 * src/peers/windows.ts, src/peers/linux.ts) and of the tests: ed25519 host and client keys, public-key
 * auth, an exec handler `(command, stdin) → {stdout, stderr, code}`, an in-memory SFTP file system, and
 * direct-tcpip forwarding to loopback only (so it can be a ProxyJump hop). Put any target model behind `exec`
 * (e.g. a Windows model that decodes `powershell.exe -EncodedCommand …`).
 *
 * Usage:
 *   const srv = await startSshPeer({ exec: ({ command, stdin }) => ({ stdout: "hi\n", code: 0 }) });
 *   const s = await connectSsh({ ...srv.connectOptions(dir), target: … });   // see test/peers/ssh-server.test.ts
 *   await srv.stop();
 */
import { timingSafeEqual } from "node:crypto";
import { writeFileSync } from "node:fs";
import { connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import ssh2 from "ssh2";
import type { Connection, ParsedKey, ServerChannel, SFTPWrapper } from "ssh2";
import { PID_MARKER_COMMAND, type SshConnectOptions } from "../io/ssh.js";

const { Server, utils } = ssh2;
const { STATUS_CODE, OPEN_MODE } = utils.sftp;

export interface ExecRequest {
  command: string;
  /** Everything the client wrote before EOF, as UTF-8. */
  stdin: string;
  user: string;
  /** Aborted when the client closes the channel or sends a signal (timeouts): long handlers should stop. */
  signal: AbortSignal;
}

export interface ExecReply {
  stdout?: string | Uint8Array;
  stderr?: string | Uint8Array;
  code?: number;
  /** Cut the client's TCP connection instead of answering (a network failure mid-command). */
  cut?: boolean;
}

export type ExecHandler = (req: ExecRequest) => ExecReply | Promise<ExecReply>;

export interface PeerFile {
  data: Buffer;
  mode: number;
}

export interface SshPeerOptions {
  /** Default: every command answers "fake: command not found" with exit 127. */
  exec?: ExecHandler;
  /** Accepted user names (default: any user). */
  users?: string[];
  /** SFTP paths the client may not write (→ permission denied). Default: none. */
  readOnly?: (path: string) => boolean;
  /** Refuse the SFTP subsystem (like a ForceCommand server). */
  noSftp?: boolean;
}

export interface KeyMaterial {
  /** OpenSSH private key text. */
  private: string;
  /** OpenSSH public key line "ssh-ed25519 AAAA… comment". */
  public: string;
}

export interface SshPeer {
  host: "127.0.0.1";
  port: number;
  hostKey: KeyMaterial;
  /** A client key the server accepts. */
  clientKey: KeyMaterial;
  /** The in-memory SFTP files, by path exactly as the client sent it. */
  files: Map<string, PeerFile>;
  /** Every exec request seen, in order. */
  commands: ExecRequest[];
  /** Every direct-tcpip (ProxyJump) destination asked for, in order. */
  forwards: { host: string; port: number }[];
  /** Accept another client public key ("ssh-ed25519 AAAA…"). */
  authorize(publicKeyLine: string): void;
  /** A known_hosts line for this server ("[127.0.0.1]:port ssh-ed25519 AAAA…"). */
  knownHostsLine(): string;
  /**
   * Write the client key and a known_hosts file into `dir` and return connectSsh options for them (no agent,
   * no ssh_config); add `target` yourself or use `target` from the result.
   */
  connectOptions(dir: string, user?: string): SshConnectOptions;
  stop(): Promise<void>;
}

/**
 * A fresh ed25519 pair. ssh2's generator drops a leading zero byte of the public key about once in 160 draws
 * (a 31-byte key, "AAAAH…" after the type), which its own parser then rejects as malformed: draw again until
 * both halves parse.
 */
function keyPair(comment: string): KeyMaterial {
  for (let i = 0; i < 100; i++) {
    const k = utils.generateKeyPairSync("ed25519", { comment });
    if (!(utils.parseKey(k.public.trim()) instanceof Error) && !(utils.parseKey(k.private) instanceof Error)) {
      return { private: k.private, public: k.public.trim() };
    }
  }
  throw new Error("ssh2 produced no parseable ed25519 key pair in 100 draws");
}

function parsePublic(line: string): ParsedKey {
  const k = utils.parseKey(line);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? k[0]! : k;
}

function serveSftp(sftp: SFTPWrapper, files: Map<string, PeerFile>, readOnly: (p: string) => boolean): void {
  const handles = new Map<number, { path: string; dir?: boolean; done?: boolean }>();
  let nextHandle = 1;
  const handleBuf = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const lookup = (h: Buffer) => (h.length === 4 ? handles.get(h.readUInt32BE(0)) : undefined);
  const attrsOf = (f: PeerFile) => ({ mode: 0o100000 | f.mode, uid: 0, gid: 0, size: f.data.length, atime: 0, mtime: 0 });

  sftp.on("OPEN", (id, path, flags, attrs) => {
    const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.CREAT | OPEN_MODE.TRUNC | OPEN_MODE.APPEND)) !== 0;
    if (writing && readOnly(path)) return sftp.status(id, STATUS_CODE.PERMISSION_DENIED, "Permission denied");
    let f = files.get(path);
    if (!f) {
      if (!(flags & OPEN_MODE.CREAT)) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE, "No such file");
      f = { data: Buffer.alloc(0), mode: (attrs?.mode ?? 0o644) & 0o7777 };
      files.set(path, f);
    } else if (flags & OPEN_MODE.TRUNC) f.data = Buffer.alloc(0);
    const n = nextHandle++;
    handles.set(n, { path });
    sftp.handle(id, handleBuf(n));
  });
  sftp.on("WRITE", (id, handle, offset, data) => {
    const h = lookup(handle);
    const f = h && files.get(h.path);
    if (!f) return sftp.status(id, STATUS_CODE.FAILURE);
    const end = offset + data.length;
    if (end > f.data.length) f.data = Buffer.concat([f.data, Buffer.alloc(end - f.data.length)]);
    data.copy(f.data, offset);
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on("READ", (id, handle, offset, len) => {
    const h = lookup(handle);
    const f = h && files.get(h.path);
    if (!f) return sftp.status(id, STATUS_CODE.FAILURE);
    if (offset >= f.data.length) return sftp.status(id, STATUS_CODE.EOF);
    sftp.data(id, f.data.subarray(offset, Math.min(f.data.length, offset + len)));
  });
  sftp.on("FSTAT", (id, handle) => {
    const h = lookup(handle);
    const f = h && files.get(h.path);
    if (!f) return sftp.status(id, STATUS_CODE.FAILURE);
    sftp.attrs(id, attrsOf(f));
  });
  const stat = (id: number, path: string) => {
    const f = files.get(path);
    if (!f) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE, "No such file");
    sftp.attrs(id, attrsOf(f));
  };
  sftp.on("STAT", stat);
  sftp.on("LSTAT", stat);
  const setMode = (id: number, path: string | undefined, attrs: { mode?: number }) => {
    const f = path === undefined ? undefined : files.get(path);
    if (!f) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE, "No such file");
    if (attrs.mode !== undefined) f.mode = attrs.mode & 0o7777;
    sftp.status(id, STATUS_CODE.OK);
  };
  sftp.on("SETSTAT", (id, path, attrs) => setMode(id, path, attrs));
  sftp.on("FSETSTAT", (id, handle, attrs) => setMode(id, lookup(handle)?.path, attrs));
  sftp.on("CLOSE", (id, handle) => {
    if (handle.length === 4) handles.delete(handle.readUInt32BE(0));
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on("REMOVE", (id, path) => {
    if (readOnly(path)) return sftp.status(id, STATUS_CODE.PERMISSION_DENIED, "Permission denied");
    sftp.status(id, files.delete(path) ? STATUS_CODE.OK : STATUS_CODE.NO_SUCH_FILE);
  });
  sftp.on("RENAME", (id, from, to) => {
    const f = files.get(from);
    if (!f) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE, "No such file");
    if (readOnly(to)) return sftp.status(id, STATUS_CODE.PERMISSION_DENIED, "Permission denied");
    files.delete(from);
    files.set(to, f);
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on("REALPATH", (id, path) => sftp.name(id, [{ filename: path, longname: path, attrs: {} as never }]));
  sftp.on("OPENDIR", (id, path) => {
    const n = nextHandle++;
    handles.set(n, { path, dir: true });
    sftp.handle(id, handleBuf(n));
  });
  sftp.on("READDIR", (id, handle) => {
    const h = lookup(handle);
    if (!h?.dir || h.done) return sftp.status(id, STATUS_CODE.EOF);
    h.done = true;
    const prefix = h.path.endsWith("/") ? h.path : `${h.path}/`;
    const names = [...files.entries()]
      .filter(([p]) => p.startsWith(prefix) && !p.slice(prefix.length).includes("/"))
      .map(([p, f]) => ({ filename: p.slice(prefix.length), longname: p.slice(prefix.length), attrs: attrsOf(f) as never }));
    if (names.length === 0) return sftp.status(id, STATUS_CODE.EOF);
    sftp.name(id, names);
  });
}

export async function startSshPeer(opts: SshPeerOptions = {}): Promise<SshPeer> {
  const hostKey = keyPair("fake-host");
  const clientKey = keyPair("fake-client");
  const authorized: ParsedKey[] = [parsePublic(clientKey.public)];
  const files = new Map<string, PeerFile>();
  const commands: ExecRequest[] = [];
  const forwards: { host: string; port: number }[] = [];
  const connections = new Set<Connection>();
  const exec: ExecHandler = opts.exec ?? (({ command }) => ({ stderr: `fake: ${command}: command not found\n`, code: 127 }));
  const readOnly = opts.readOnly ?? (() => false);

  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    connections.add(client);
    // Nagle's algorithm held a reply's exit status, EOF and close (small packets written together) until the client
    // acked its data: a delayed ack, ~40 ms on every command. ssh2's Connection has setNoDelay, its types do not.
    (client as Connection & { setNoDelay(on: boolean): Connection }).setNoDelay(true);
    let user = "";
    client.on("close", () => connections.delete(client));
    client.on("error", () => {});
    client.on("authentication", (ctx) => {
      user = ctx.username;
      if (opts.users && !opts.users.includes(ctx.username)) return ctx.reject(["publickey"]);
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const key = authorized.find((k) => {
        const pub = k.getPublicSSH();
        return pub.length === ctx.key.data.length && timingSafeEqual(pub, ctx.key.data);
      });
      if (!key) return ctx.reject(["publickey"]);
      if (ctx.signature && ctx.blob && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)
        return ctx.reject(["publickey"]);
      ctx.accept();
    });
    client.on("ready", () => {
      client.on("tcpip", (accept, reject, info) => {
        // Only loopback destinations: this fake may be a ProxyJump hop in tests, never a way out.
        forwards.push({ host: info.destIP, port: info.destPort });
        if (!/^(127\.|::1$|localhost$)/.test(info.destIP)) return reject();
        const sock = connect({ host: info.destIP, port: info.destPort });
        sock.setNoDelay(true); // the inner connection's packets pass as they come (see the server's own socket)
        sock.once("connect", () => {
          const ch = accept();
          sock.pipe(ch).pipe(sock);
          ch.on("close", () => sock.destroy());
          sock.on("close", () => ch.end());
        });
        sock.once("error", () => reject());
      });
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("exec", (accept, _reject, info) => {
          const ch: ServerChannel = accept();
          const chunks: Buffer[] = [];
          const abort = new AbortController();
          let finished = false;
          ch.on("data", (d: Buffer) => chunks.push(d));
          ch.on("close", () => abort.abort());
          const run = async () => {
            // A POSIX-shell session prefixes every command with its pid report; handlers see the command itself.
            const command = info.command.startsWith(PID_MARKER_COMMAND)
              ? info.command.slice(PID_MARKER_COMMAND.length)
              : info.command;
            const req: ExecRequest = {
              command,
              stdin: Buffer.concat(chunks).toString("utf8"),
              user,
              signal: abort.signal,
            };
            commands.push(req);
            let reply: ExecReply;
            try {
              reply = await exec(req);
            } catch (e) {
              reply = { stderr: `fake server handler threw: ${(e as Error).message}\n`, code: 70 };
            }
            if (finished || abort.signal.aborted) return;
            finished = true;
            if (reply.cut) {
              // as a cable pulled: the socket goes, no channel close, no disconnect message
              (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
              return;
            }
            if (reply.stdout) ch.write(Buffer.from(reply.stdout));
            if (reply.stderr) ch.stderr.write(Buffer.from(reply.stderr));
            ch.exit(reply.code ?? 0);
            ch.end();
          };
          ch.once("end", () => void run());
        });
        session.on("signal", (accept) => accept?.());
        session.on("sftp", (accept, reject) => {
          if (opts.noSftp) return reject();
          serveSftp(accept(), files, readOnly);
        });
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;

  const knownHostsLine = () => `[127.0.0.1]:${port} ${hostKey.public.split(" ").slice(0, 2).join(" ")}`;
  return {
    host: "127.0.0.1",
    port,
    hostKey,
    clientKey,
    files,
    commands,
    forwards,
    authorize(line) {
      authorized.push(parsePublic(line));
    },
    knownHostsLine,
    connectOptions(dir, user = "fake") {
      const keyFile = join(dir, `fake-client-${port}`);
      writeFileSync(keyFile, clientKey.private, { mode: 0o600 });
      const knownHostsPath = join(dir, `fake-known-hosts-${port}`);
      writeFileSync(knownHostsPath, `${knownHostsLine()}\n`);
      return {
        target: { name: "fake", address: "127.0.0.1", ssh: { user, port, identityFile: keyFile } },
        sshConfigPath: null,
        knownHostsPath,
        agentSocket: null,
        homeDir: dir,
      };
    },
    async stop() {
      for (const c of connections) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
