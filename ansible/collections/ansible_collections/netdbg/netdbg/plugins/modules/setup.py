#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netdbg developers
# MIT License (see the LICENSE file of the netdbg repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: setup
short_description: Provision kernel debugging (KDNET, kgdboe) for the targets of one debug host
version_added: "0.1.0"
description:
  - Runs C(netdbg setup) on the debug host for all its targets in one fleet call (not one Ansible fork per target),
    so the targets' ports, keys and change journals stay in that debug host's netdbg state.
  - Windows targets get KDNET (C(bcdedit) debug settings on a copy of the boot entry); Linux targets get kgdboe, built and
    loaded over SSH. Every change is journaled on the debug host and undone by C(state=absent).
  - Targets come from an Ansible inventory readable on the debug host (C(inventory)) or from the JSON of
    C(ansible-inventory --list) passed by the play (C(inventory_json)); netdbg selects the hosts whose
    C(netdbg_debug_host) is C(debug_host).
  - Check mode runs C(netdbg setup --check), which changes nothing; diff mode shows each target's commands.
  - KDNET keys never leave the debug host through this module; C(netdbg keys show <target> --show-secrets) prints one there.
options:
  targets:
    description:
      - Target names (Ansible inventory hostnames) to act on. Empty means every target of this debug host.
    type: list
    elements: str
    default: []
  state:
    description:
      - C(present) sets debugging up; C(absent) undoes every recorded change (C(netdbg teardown)).
    type: str
    choices: [present, absent]
    default: present
  netdbg:
    description: The netdbg executable on the debug host.
    type: path
    default: netdbg
  state_dir:
    description: netdbg's state directory on the debug host (keys, ports, journals). Default is netdbg's own.
    type: path
  inventory:
    description: An Ansible inventory file on the debug host (INI, YAML, or the JSON of C(ansible-inventory --list)).
    type: path
  inventory_json:
    description:
      - The JSON object C(ansible-inventory --list) prints, sent to netdbg on standard input.
      - Wins over C(inventory) when both are given.
    type: dict
  debug_host:
    description:
      - The debug host's name as the inventory's C(netdbg_debug_host) values say it. Default is this host's name.
      - Pass C({{ inventory_hostname }}) in a play over the debug hosts.
    type: str
  port_range:
    description: New host UDP ports come from this range (C(50000-50039) by default, or C(netdbg_port_range)).
    type: str
  concurrency:
    description: How many targets netdbg works on at once.
    type: int
    default: 8
  host_firewall:
    description:
      - Open inbound UDP on the debug host's firewall from each target (journaled).
      - C(state=absent) always closes what setup opened, whatever this option says.
    type: bool
    default: true
  accept_new_host_key:
    description: Trust an SSH host key seen for the first time.
    type: bool
    default: false
  kgdboe_source:
    description: Linux targets, when the inventory names no C(netdbg_kgdboe_source) - git URL, directory or tarball of kgdboe.
    type: str
  install_deps:
    description: Linux targets - install missing kernel headers and toolchain without asking.
    type: bool
    default: false
  persist:
    description: Linux targets - load kgdboe at every boot.
    type: bool
    default: false
  extra_args:
    description: More C(netdbg setup) options, passed as they are (for example C(--force)).
    type: list
    elements: str
    default: []
notes:
  - Needs netdbg on the debug host. Runs there, so a play targets the debug hosts, with
    C(ansible_connection=local) when netdbg runs on the controller.
  - "Idempotent: a second run reports C(changed=false); C(state=absent) on a target with nothing recorded changes nothing."
author:
  - netdbg developers
"""

EXAMPLES = r"""
- name: Kernel debugging on every target assigned to each debug host
  hosts: debug_hosts
  gather_facts: false
  tasks:
    - name: KDNET and kgdboe, one fleet call per debug host
      netdbg.netdbg.setup:
        inventory: "{{ inventory_file }}"
        debug_host: "{{ inventory_hostname }}"

- name: Undo it
  hosts: debug_hosts
  gather_facts: false
  tasks:
    - netdbg.netdbg.setup:
        inventory: "{{ inventory_file }}"
        debug_host: "{{ inventory_hostname }}"
        state: absent
"""

RETURN = r"""
changed:
  description: Whether any target changed (in check mode - whether any would).
  type: bool
  returned: always
results:
  description: One entry per target.
  type: list
  elements: dict
  returned: always
  contains:
    target:
      description: The target's name.
      type: str
    os:
      description: windows or linux.
      type: str
    ok:
      description: Whether netdbg finished this target without error.
      type: bool
    changed:
      description: Whether this target changed (would change, in check mode).
      type: bool
    port:
      description: The debug host's UDP port for this target.
      type: int
    commands:
      description: The commands run (or, in check mode, that would run) on the target and the debug host.
      type: list
      elements: str
    handoff:
      description: The debugger command line (windbg or gdb), with the KDNET key redacted.
      type: str
    error:
      description: The failure, with netdbg's stable code and the fix.
      type: dict
      contains:
        code:
          description: NETDBG-E### code.
          type: str
        message:
          description: What happened.
          type: str
        fix:
          description: What to do.
          type: str
cmd:
  description: The netdbg command lines run (one fleet call for C(state=present), one per target for C(state=absent)).
  type: list
  elements: str
  returned: always
"""

import concurrent.futures

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netdbg.netdbg.plugins.module_utils.netdbg import (
    INVENTORY_OPTIONS,
    command_line,
    error_of,
    global_args,
    run_netdbg,
    scrub,
)

# teardown of a Windows target whose journal is gone: nothing netdbg recorded is left to undo
NOTHING_RECORDED = ("NETDBG-E216",)


def target_result(entry, check):
    """One fleet entry (or a single-target object) as this module's per-target result."""
    result = entry.get("result") if "result" in entry else entry
    ok = bool(entry.get("ok", True)) and "error" not in entry
    out = dict(target=entry.get("target") or (result or {}).get("target"), os=entry.get("os") or (result or {}).get("os"), ok=ok)
    if not ok:
        err = entry.get("error") or {}
        out.update(changed=False, error=dict(code=err.get("code", "NETDBG-E000"), message=err.get("message", ""), fix=err.get("fix", "")))
        return out
    actions = (result or {}).get("actions") or []
    if check:
        pending = [a for a in actions if a.get("outcome") != "unchanged"]
        changed = bool(pending)
    else:
        pending = [a for a in actions if a.get("outcome") == "changed"]
        changed = bool((result or {}).get("changed"))
    handoff = (result or {}).get("handoff") or {}
    out.update(
        changed=changed,
        port=(result or {}).get("port") or (result or {}).get("udpPort"),
        commands=["%s: %s" % (a.get("where", "target"), a.get("command", "")) for a in pending],
        handoff=handoff.get("windbg") or handoff.get("gdb") or "",
    )
    return scrub(out)


def setup_present(module, base, stdin, check):
    p = module.params
    argv = list(base) + ["setup"]
    argv += p["targets"] or ["--all"]
    argv += ["--no-connect", "--concurrency", str(p["concurrency"])]
    if check:
        argv.append("--check")
    if not p["host_firewall"]:
        argv.append("--no-host-firewall")
    if p["accept_new_host_key"]:
        argv.append("--accept-new-host-key")
    if p["kgdboe_source"]:
        argv += ["--kgdboe-source", p["kgdboe_source"]]
    if p["install_deps"]:
        argv.append("--install-deps")
    if p["persist"]:
        argv.append("--persist")
    argv += p["extra_args"]
    rc, obj, out, err = run_netdbg(module, argv, stdin)
    if isinstance(obj, dict) and isinstance(obj.get("fleet"), list):
        return [target_result(e, check) for e in obj["fleet"]], [argv], None
    if isinstance(obj, dict) and "target" in obj and rc == 0:
        return [target_result(obj, check)], [argv], None
    if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
        code = obj["error"].get("code")
        if code == "NETDBG-E005" and not p["targets"]:
            return [], [argv], None  # no target is assigned to this debug host
        if len(p["targets"]) == 1:
            return [target_result(dict(target=p["targets"][0], ok=False, error=obj["error"]), check)], [argv], None
    return None, [argv], error_of(obj, rc, err)


def target_names(module, base, stdin):
    rc, obj, out, err = run_netdbg(module, list(base) + ["targets", "list"], stdin)
    if rc != 0 or not isinstance(obj, dict):
        module.fail_json(msg="Cannot list the targets: %s" % scrub(error_of(obj, rc, err)))
    return [t["name"] for t in obj.get("targets", [])]


def setup_absent(module, base, stdin, check):
    p = module.params
    names = p["targets"] or target_names(module, base, stdin)
    warnings = []

    def one(name):
        argv = list(base) + ["teardown", name]
        if check:
            argv.append("--check")
        # teardown undoes exactly what the journal holds, this host's firewall rule included when setup opened one
        rc, obj, out, err = run_netdbg(module, argv, stdin)
        if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
            if obj["error"].get("code") in NOTHING_RECORDED:
                warnings.append("%s: %s" % (name, scrub(obj["error"].get("message", ""))))
                return argv, dict(target=name, ok=True, changed=False, commands=[])
            return argv, target_result(dict(target=name, ok=False, error=obj["error"]), check)
        if rc == 0 and isinstance(obj, dict):
            return argv, target_result(obj, check)
        return argv, dict(target=name, ok=False, changed=False, error=dict(code="NETDBG-E000", message=scrub(error_of(obj, rc, err)), fix=""))

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, p["concurrency"])) as pool:
        done = list(pool.map(one, names))
    for w in warnings:
        module.warn(w)
    return [r for _, r in done], [argv for argv, _ in done], None


def main():
    spec = dict(INVENTORY_OPTIONS)
    spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        concurrency=dict(type="int", default=8),
        host_firewall=dict(type="bool", default=True),
        accept_new_host_key=dict(type="bool", default=False),
        kgdboe_source=dict(type="str"),
        install_deps=dict(type="bool", default=False),
        persist=dict(type="bool", default=False),
        extra_args=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    if p["concurrency"] < 1 or p["concurrency"] > 64:
        module.fail_json(msg="concurrency must be 1-64, not %s" % p["concurrency"])
    try:
        base, stdin = global_args(p)
    except ValueError as e:
        module.fail_json(msg=str(e))
    check = module.check_mode
    run = setup_present if p["state"] == "present" else setup_absent
    results, cmds, failure = run(module, base, stdin, check)
    if failure is not None:
        module.fail_json(msg=scrub(failure), cmd=[command_line(c) for c in cmds], results=[])
    changed = any(r.get("changed") for r in results)
    out = dict(changed=changed, results=results, cmd=[command_line(c) for c in cmds])
    if module._diff:
        out["diff"] = [
            dict(
                before_header="%s (%s)" % (r["target"], "before"),
                after_header="%s (%s)" % (r["target"], "would run" if check else "ran"),
                before="",
                after="".join("%s\n" % c for c in r.get("commands", [])),
            )
            for r in results
            if r.get("commands")
        ]
    failed = [r for r in results if not r.get("ok")]
    if failed:
        out["msg"] = "; ".join(
            "%s: %s %s [%s]" % (r["target"], r["error"]["message"], r["error"]["fix"], r["error"]["code"]) for r in failed
        )
        module.fail_json(**out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
