#!/bin/sh
# Runs inside the fresh rootfs before it is imported.
set -e
# A non-root account for login-shell checks.
id tester >/dev/null 2>&1 || useradd --create-home --shell /bin/bash tester
chmod 0755 /usr/local/bin/* 2>/dev/null || true
