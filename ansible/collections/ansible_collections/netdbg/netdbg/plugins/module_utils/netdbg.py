# -*- coding: utf-8 -*-
# Copyright: netdbg developers
# MIT License (see the LICENSE file of the netdbg repository)
"""Shared code of the netdbg.netdbg modules: build netdbg's command line, run it, read its one JSON object."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import shlex

# netdbg redacts the keys it knows in everything it prints; this is a second net under it: a "key" field is
# dropped and whatever follows "key=" or "key:" (windbg's and bcdedit's spelling) is cut before it reaches
# Ansible's output. A bare dotted key cannot be told from an IPv4 address by its shape, so it is left to netdbg.
_KEY_ARG_RE = re.compile(r"(\bkey[=:])[^,\s'\"]+", re.IGNORECASE)

INVENTORY_OPTIONS = dict(
    netdbg=dict(type="path", default="netdbg"),
    state_dir=dict(type="path"),
    inventory=dict(type="path"),
    inventory_json=dict(type="dict"),
    debug_host=dict(type="str"),
    port_range=dict(type="str"),
    targets=dict(type="list", elements="str", default=[]),
)


def scrub(value):
    """A copy of value with every string cleared of anything shaped like a KDNET key."""
    if isinstance(value, dict):
        return dict((k, scrub(v)) for k, v in value.items() if k != "key")
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return _KEY_ARG_RE.sub(r"\1<redacted>", value)
    return value


def global_args(params):
    """netdbg's global options from the module's inventory options, and the text to send on stdin (or None)."""
    args = ["--json"]
    stdin = None
    if params.get("state_dir"):
        args += ["--state-dir", params["state_dir"]]
    if params.get("inventory_json") is not None:
        args += ["--ansible-inventory", "-"]
        stdin = json.dumps(params["inventory_json"])
    elif params.get("inventory"):
        args += ["--ansible-inventory", params["inventory"]]
    if params.get("debug_host"):
        if not (params.get("inventory") or params.get("inventory_json") is not None):
            raise ValueError("debug_host needs inventory or inventory_json")
        args += ["--debug-host", params["debug_host"]]
    if params.get("port_range"):
        args += ["--port-range", params["port_range"]]
    return args, stdin


def parse_json(stdout):
    """netdbg's one JSON object, or None when stdout holds none."""
    text = (stdout or "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        # a stray line before the object (never expected from --json): take the last top-level object
        start = text.rfind("\n{")
        if start >= 0:
            try:
                return json.loads(text[start + 1:])
            except ValueError:
                return None
        return None


def error_of(obj, rc, stderr):
    """'message fix [code]' of netdbg's {error: {...}} object, or the tail of stderr."""
    if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
        e = obj["error"]
        return "%s %s [%s]" % (e.get("message", ""), e.get("fix", ""), e.get("code", "NETDBG-E000"))
    tail = (stderr or "").strip().splitlines()[-5:]
    return "netdbg exited %s: %s" % (rc, " ".join(tail) or "no output")


def run_netdbg(module, argv, stdin):
    """Run netdbg; return (rc, parsed JSON or None, stdout, stderr). A missing netdbg fails the module."""
    exe = module.get_bin_path(module.params["netdbg"], required=False) or module.params["netdbg"]
    cmd = [exe] + argv
    rc, out, err = module.run_command(
        cmd,
        data=stdin,
        binary_data=True,
        environ_update={"NO_COLOR": "1", "CI": "1"},
    )
    return rc, parse_json(out), out, err


def command_line(argv):
    """The netdbg command line as one shell-quoted string (for the module's cmd result)."""
    return " ".join(shlex.quote(a) for a in ["netdbg"] + list(argv))
