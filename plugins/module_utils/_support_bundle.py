# -*- coding: utf-8 -*-
# Copyright: ptfe.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commands run on a host with a bound in time, for the support bundle collector.

This is a private module_utils file of the ptfe.ops collection (its name starts with an underscore): it is for the
collection's own modules and may change without notice.

``AnsibleModule.run_command`` has no time limit, and a bundle command that hangs (or leaves children behind) must be
stopped together with everything it started: the command runs in a session of its own, and on time-out its whole
process group gets SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess

#: Seconds a stopped command gets to end after SIGTERM, then after SIGKILL.
STOP_GRACE = 5


def run_bounded(argv, timeout, cwd):
    """(rc, stdout, stderr, timed_out): ``argv`` run in its own process group, stopped with it after ``timeout``."""
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    except OSError as exc:
        return 127, b"", str(exc).encode(), False
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err, False
    except subprocess.TimeoutExpired:
        for sig, grace in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, STOP_GRACE)):
            try:
                os.killpg(proc.pid, sig)
            except OSError:
                pass
            try:
                out, err = proc.communicate(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                out = err = b""
        return None, out, err, True
