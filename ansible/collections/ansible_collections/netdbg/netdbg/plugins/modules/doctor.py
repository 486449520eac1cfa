#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: netdbg developers
# MIT License (see the LICENSE file of the netdbg repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: doctor
short_description: Read-only checks of a debug host and its kernel-debugging targets
version_added: "0.1.0"
description:
  - Runs C(netdbg doctor) on the debug host for each of its targets (host route, firewall, IPsec, round trip, NIC,
    Secure Boot, BitLocker, boot configuration, kernel configuration, kgdboe answering, KDNET pokes and key).
  - Never changes anything, so C(changed) is always false; the task fails when a check fails, with each failing
    check's message and fix.
options:
  targets:
    description: Target names to check. Empty means every target of this debug host.
    type: list
    elements: str
    default: []
  netdbg:
    description: The netdbg executable on the debug host.
    type: path
    default: netdbg
  state_dir:
    description: netdbg's state directory on the debug host.
    type: path
  inventory:
    description: An Ansible inventory file on the debug host (INI, YAML, or the JSON of C(ansible-inventory --list)).
    type: path
  inventory_json:
    description: The JSON object C(ansible-inventory --list) prints, sent to netdbg on standard input.
    type: dict
  debug_host:
    description: The debug host's name as the inventory's C(netdbg_debug_host) values say it.
    type: str
  port_range:
    description: The range the debug host's ports come from (only read).
    type: str
  ssh:
    description: Open SSH to the targets for the target checks (false - those checks are skipped).
    type: bool
    default: true
  warn_fails:
    description: Treat a warning as a failure.
    type: bool
    default: false
notes:
  - Supports check mode (it changes nothing either way).
author:
  - netdbg developers
"""

EXAMPLES = r"""
- name: Is every target of this debug host ready to debug?
  netdbg.netdbg.doctor:
    inventory: "{{ inventory_file }}"
    debug_host: "{{ inventory_hostname }}"
"""

RETURN = r"""
verdict:
  description: The worst status over all checks - ok, warn, skip or fail.
  type: str
  returned: always
reports:
  description: Per target, netdbg's checks with status, message and fix.
  type: list
  elements: dict
  returned: always
failed_checks:
  description: The checks that failed, as "target check - message fix".
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netdbg.netdbg.plugins.module_utils.netdbg import (
    INVENTORY_OPTIONS,
    error_of,
    global_args,
    run_netdbg,
    scrub,
)


def main():
    spec = dict(INVENTORY_OPTIONS)
    spec.update(ssh=dict(type="bool", default=True), warn_fails=dict(type="bool", default=False))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    try:
        base, stdin = global_args(p)
    except ValueError as e:
        module.fail_json(msg=str(e))
    names = p["targets"] or [None]
    reports = []
    for name in names:
        argv = list(base) + ["doctor"] + ([name] if name else [])
        if not p["ssh"]:
            argv.append("--no-ssh")
        rc, obj, out, err = run_netdbg(module, argv, stdin)
        if not isinstance(obj, dict) or "reports" not in obj:
            module.fail_json(msg=scrub(error_of(obj, rc, err)), changed=False)
        reports += [r for r in obj["reports"] if r.get("target") or not p["targets"]]
    reports = scrub(reports)
    bad = ("fail", "warn") if p["warn_fails"] else ("fail",)
    failed_checks = [
        "%s %s - %s %s" % (r.get("target") or "(host)", c.get("id"), c.get("message", ""), c.get("fix", ""))
        for r in reports
        for c in r.get("checks", [])
        if c.get("status") in bad
    ]
    order = dict(ok=0, skip=1, warn=2, fail=3)
    statuses = [c.get("status", "ok") for r in reports for c in r.get("checks", [])]
    verdict = max(statuses, key=lambda s: order.get(s, 0)) if statuses else "ok"
    result = dict(changed=False, verdict=verdict, reports=reports, failed_checks=failed_checks)
    if failed_checks:
        module.fail_json(msg="; ".join(failed_checks), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
