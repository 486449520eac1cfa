/** Where the kgdboe source comes from (read by src/io/kgdboe-source.ts, uploaded by src/targets/linux). */
export interface SourceFile {
  /** Relative path inside the source tree, '/'-separated, no '..'. */
  path: string;
  content: Uint8Array | string;
  mode?: number;
}

export type KgdboeSource =
  /** A local directory read by the CLI, uploaded file by file over SFTP. */
  | { kind: "files"; label: string; files: SourceFile[]; commit?: string }
  /** A local .tar/.tar.gz/.tgz, uploaded over SFTP and unpacked on the target. */
  | { kind: "tarball"; label: string; name: string; content: Uint8Array; commit?: string }
  /** A git URL cloned on the target. */
  | { kind: "git"; url: string };
