import { defineErrors } from "./types.js";

/** Ansible inventories and the netdbg.netdbg collection. Code range: CODE_RANGES in index.ts. */
export const ansibleErrors = defineErrors({
  E900: {
    title: "Ansible inventory does not read",
    exit: "usage",
    message: (p: { source: string; problem: string }) => `The Ansible inventory ${p.source} cannot be used: ${p.problem}.`,
    fix: (p: { fix?: string }) =>
      p.fix ??
      "Pass the JSON of 'ansible-inventory -i <inventory> --list', or an INI/YAML inventory file with ansible-core installed.",
  },
  E901: {
    title: "Ansible host variable not usable",
    exit: "usage",
    message: (p: { source: string; host: string; variable: string; value: string; expected: string }) =>
      `In the Ansible inventory ${p.source}, host '${p.host}' has ${p.variable} = '${p.value}', but netdbg needs ${p.expected}.`,
    fix: (p: { host: string; variable: string }) =>
      `Fix ${p.variable} for '${p.host}' in the inventory (host_vars or group_vars), then run netdbg again; nothing was changed.`,
  },
  E902: {
    title: "ansible-inventory not installed",
    exit: "environment",
    message: (p: { source: string }) =>
      `${p.source} is an INI or YAML inventory, and netdbg reads those through 'ansible-inventory', which is not installed here.`,
    fix: () =>
      "Install ansible-core (Debian/Ubuntu: 'apt-get install ansible-core'), or pass the JSON of 'ansible-inventory -i <inventory> --list' (a file, or - for standard input).",
  },
  E903: {
    title: "The inventory is Ansible's",
    exit: "usage",
    message: (p: { what: string }) => `With --ansible-inventory, ${p.what}: the targets come from the Ansible inventory.`,
    fix: () =>
      "Change the target in the Ansible inventory (ansible_host, netdbg_* variables) and run again, or leave --ansible-inventory out to use netdbg's own inventory.",
  },
});
