# -*- coding: utf-8 -*-
# Copyright: netdbg developers
# MIT License (see the LICENSE file of the netdbg repository)
"""The netdbg.netdbg modules against captured netdbg --json output (fixtures/README.md): run with unittest."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import unittest
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.netdbg.netdbg.plugins.modules import doctor, setup

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
KEY = "1a2b3c4d5e6f7.0a1b2c3d4e5f6.7a8b9c0d1e2f3.4a5b6c7d8e9f0"


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


class Exit(Exception):
    pass


class Fail(Exception):
    pass


def run_module(mod, args, outputs, check_mode=False, diff=False):
    """Run mod.main() with args; outputs is a list of (rc, stdout) netdbg answers in call order.
    Returns (kind, result, calls) where kind is 'exit' or 'fail' and calls holds (argv, stdin)."""
    params = dict(args)
    params["_ansible_check_mode"] = check_mode
    params["_ansible_diff"] = diff
    calls = []
    answers = list(outputs)

    def run_command(self, cmd, data=None, **kw):
        calls.append((cmd, data))
        rc, out = answers.pop(0) if len(answers) > 1 else answers[0]
        return rc, out, ""

    def exit_json(self, **kw):
        raise Exit(kw)

    def fail_json(self, **kw):
        raise Fail(kw)

    with mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": params}))), mock.patch.object(
        basic.AnsibleModule, "run_command", run_command
    ), mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), mock.patch.object(
        basic.AnsibleModule, "fail_json", fail_json
    ), mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False: "/usr/bin/netdbg"):
        try:
            mod.main()
        except Exit as e:
            return "exit", e.args[0], calls
        except Fail as e:
            return "fail", e.args[0], calls
    raise AssertionError("the module neither exited nor failed")


class SetupPresent(unittest.TestCase):
    def test_first_run_changes_every_target_in_one_fleet_call(self):
        kind, r, calls = run_module(setup, dict(inventory="/inv.yml", debug_host="dbg1"), [(0, fixture("setup-changed.json"))])
        self.assertEqual(kind, "exit")
        self.assertTrue(r["changed"])
        self.assertEqual([x["target"] for x in r["results"]], ["lin02", "lin04", "win01", "win03"])
        self.assertTrue(all(x["changed"] and x["ok"] for x in r["results"]))
        self.assertEqual(len(calls), 1)
        argv = calls[0][0]
        self.assertEqual(argv[:6], ["/usr/bin/netdbg", "--json", "--ansible-inventory", "/inv.yml", "--debug-host", "dbg1"])
        self.assertIn("--all", argv)
        self.assertIn("--no-connect", argv)
        self.assertNotIn("--check", argv)

    def test_second_run_is_ok_unchanged(self):
        kind, r, _ = run_module(setup, dict(inventory="/inv.yml"), [(0, fixture("setup-unchanged.json"))])
        self.assertEqual(kind, "exit")
        self.assertFalse(r["changed"])
        self.assertTrue(all(not x["changed"] for x in r["results"]))

    def test_check_mode_passes_check_and_reports_would_change(self):
        kind, r, calls = run_module(setup, dict(inventory="/inv.yml"), [(0, fixture("setup-check.json"))], check_mode=True)
        self.assertEqual(kind, "exit")
        self.assertIn("--check", calls[0][0])
        self.assertTrue(r["changed"])  # everything would change: nothing was set up
        self.assertTrue(all(x["commands"] for x in r["results"]))

    def test_check_mode_after_setup_would_change_nothing(self):
        doc = json.loads(fixture("setup-check.json"))
        for e in doc["fleet"]:
            for a in e["result"]["actions"]:
                a["outcome"] = "unchanged"
        kind, r, _ = run_module(setup, dict(inventory="/inv.yml"), [(0, json.dumps(doc))], check_mode=True)
        self.assertFalse(r["changed"])

    def test_diff_mode_shows_each_targets_commands(self):
        kind, r, _ = run_module(setup, dict(inventory="/inv.yml"), [(0, fixture("setup-check.json"))], check_mode=True, diff=True)
        self.assertEqual(len(r["diff"]), 4)
        win = [d for d in r["diff"] if d["before_header"].startswith("win01")][0]
        self.assertIn("bcdedit", win["after"])
        self.assertIn("would run", win["after_header"])

    def test_never_returns_a_key_even_when_netdbg_printed_one(self):
        doc = json.loads(fixture("setup-changed.json"))
        for e in doc["fleet"]:
            e["result"]["key"] = KEY
            if "windbg" in e["result"]["handoff"]:
                e["result"]["handoff"]["windbg"] = "windbg -k net:port=50002,key=%s" % KEY
        kind, r, _ = run_module(setup, dict(inventory="/inv.yml"), [(0, json.dumps(doc))])
        text = json.dumps(r)
        self.assertNotIn(KEY, text)
        self.assertNotIn(KEY.split(".")[0], text)
        self.assertIn("key=<redacted>", text)

    def test_one_failing_target_fails_the_task_alone_with_its_code(self):
        doc = json.loads(fixture("setup-changed.json"))
        doc["fleet"][1] = dict(
            target="lin04",
            os="linux",
            ok=False,
            error=dict(code="NETDBG-E800", message="SSH to 127.0.0.1:2222 was refused.", fix="Start sshd."),
        )
        kind, r, _ = run_module(setup, dict(inventory="/inv.yml"), [(3, json.dumps(doc))])
        self.assertEqual(kind, "fail")
        self.assertIn("lin04: SSH to 127.0.0.1:2222 was refused. Start sshd. [NETDBG-E800]", r["msg"])
        self.assertTrue(r["changed"])  # the others changed
        self.assertEqual([x["ok"] for x in r["results"]], [True, False, True, True])

    def test_a_whole_run_error_fails_with_netdbgs_message(self):
        err = json.dumps(dict(error=dict(code="NETDBG-E902", message="inv.ini needs ansible-inventory.", fix="Install ansible-core.")))
        kind, r, _ = run_module(setup, dict(inventory="/inv.ini"), [(3, err)])
        self.assertEqual(kind, "fail")
        self.assertIn("[NETDBG-E902]", r["msg"])

    def test_no_target_for_this_debug_host_is_ok(self):
        err = json.dumps(dict(error=dict(code="NETDBG-E005", message="No target named '(any: the inventory is empty)'.", fix="")))
        kind, r, _ = run_module(setup, dict(inventory="/inv.ini"), [(2, err)])
        self.assertEqual(kind, "exit")
        self.assertEqual(r["results"], [])
        self.assertFalse(r["changed"])

    def test_inventory_json_goes_to_stdin_and_flags_pass_through(self):
        inv = {"_meta": {"hostvars": {}}}
        kind, r, calls = run_module(
            setup,
            dict(inventory_json=inv, targets=["win01"], host_firewall=False, port_range="50100-50139", concurrency=4, extra_args=["--force"]),
            [(0, json.dumps(json.loads(fixture("setup-changed.json"))["fleet"][2]["result"]))],
        )
        self.assertEqual(kind, "exit")
        argv, stdin = calls[0]
        self.assertEqual(json.loads(stdin), inv)
        for part in (["--ansible-inventory", "-"], ["--port-range", "50100-50139"], ["setup", "win01"], ["--concurrency", "4"]):
            i = argv.index(part[0])
            self.assertEqual(argv[i:i + len(part)], part)
        self.assertIn("--no-host-firewall", argv)
        self.assertIn("--force", argv)
        self.assertEqual(r["results"][0]["target"], "win01")

    def test_debug_host_without_inventory_is_refused(self):
        kind, r, calls = run_module(setup, dict(debug_host="dbg1"), [(0, "{}")])
        self.assertEqual(kind, "fail")
        self.assertEqual(calls, [])


class SetupAbsent(unittest.TestCase):
    def test_teardown_per_target_and_unchanged_when_nothing_is_recorded(self):
        targets = json.dumps(dict(targets=[dict(name="win01"), dict(name="win03")]))
        kind, r, calls = run_module(
            setup,
            dict(inventory="/inv.yml", state="absent", concurrency=1),
            [(0, targets), (0, fixture("teardown.json")), (2, fixture("teardown-again.json"))],
        )
        self.assertEqual(kind, "exit")
        self.assertEqual([c[0][-1] for c in calls[1:]], ["win01", "win03"])
        self.assertEqual([x["changed"] for x in r["results"]], [True, False])
        self.assertTrue(r["changed"])

    def test_check_mode_teardown_passes_check(self):
        kind, r, calls = run_module(
            setup, dict(inventory="/inv.yml", state="absent", targets=["win01"]), [(0, fixture("teardown-check.json"))], check_mode=True
        )
        self.assertEqual(kind, "exit")
        self.assertIn("--check", calls[0][0])
        self.assertTrue(r["changed"])


class Doctor(unittest.TestCase):
    def test_a_failing_check_fails_the_task_and_nothing_changes(self):
        kind, r, calls = run_module(doctor, dict(inventory="/inv.yml", targets=["win01"]), [(1, fixture("doctor.json"))])
        self.assertEqual(kind, "fail")
        self.assertFalse(r["changed"])
        self.assertEqual(r["verdict"], "fail")
        self.assertEqual(len(r["failed_checks"]), 1)
        self.assertIn("win01 kdnet.pokes", r["failed_checks"][0])

    def test_all_ok_or_warn_passes_unless_warnings_fail(self):
        doc = json.loads(fixture("doctor.json"))
        for rep in doc["reports"]:
            for c in rep["checks"]:
                if c["status"] == "fail":
                    c["status"] = "ok"
        kind, r, _ = run_module(doctor, dict(inventory="/inv.yml"), [(0, json.dumps(doc))])
        self.assertEqual(kind, "exit")
        self.assertFalse(r["changed"])
        self.assertEqual(r["verdict"], "warn")
        kind, r, _ = run_module(doctor, dict(inventory="/inv.yml", warn_fails=True), [(0, json.dumps(doc))])
        self.assertEqual(kind, "fail")


if __name__ == "__main__":
    unittest.main()
