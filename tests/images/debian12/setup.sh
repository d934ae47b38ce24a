#!/bin/sh
# Runs inside the fresh rootfs before it is imported. Everything the image must hold that is not a file
# (directories, accounts, modes) is made here: git does not carry empty directories or modes beyond the
# executable bit, so an overlay directory under rootfs/ would exist on one machine and not on the next.
set -e
# The PTFE AMI's data directory: /data/vault-unseal-key lives here until post_rekey_backup removes it.
install -d -o root -g root -m 0755 /data
# A non-root account for login-shell checks.
id tester >/dev/null 2>&1 || useradd --create-home --shell /bin/bash tester
# Stand-in host tools (atlas-backup).
chmod 0755 /usr/local/bin/*
