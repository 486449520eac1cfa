import envPaths from "env-paths";
import { join } from "node:path";

/** Where netdbg keeps things. `--state-dir` / NETDBG_HOME put everything under one directory. */
export interface NetdbgPaths {
  config: string;
  state: string;
  cache: string;
  inventory: string;
  keys: string;
  journals: string;
}

export function resolvePaths(stateDir?: string, env: NodeJS.ProcessEnv = process.env): NetdbgPaths {
  const root = stateDir ?? env.NETDBG_HOME;
  if (root) {
    return {
      config: root,
      state: join(root, "state"),
      cache: join(root, "cache"),
      inventory: join(root, "targets.yaml"),
      keys: join(root, "keys"),
      journals: join(root, "state", "journals"),
    };
  }
  const p = envPaths("netdbg", { suffix: "" });
  return {
    config: p.config,
    state: p.data,
    cache: p.cache,
    inventory: join(p.config, "targets.yaml"),
    keys: join(p.config, "keys"),
    journals: join(p.data, "journals"),
  };
}
