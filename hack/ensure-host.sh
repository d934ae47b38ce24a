#!/usr/bin/env bash
# Make sure the host has what the test rig needs: a Docker engine that answers, debootstrap, and gpg (the
# support-bundle tests encrypt and decrypt). As root on Debian/Ubuntu it installs Debian's docker.io, debootstrap
# and gnupg and starts dockerd itself;
# anywhere else it stops with a message naming exactly what to install.
set -euo pipefail

log=${PTFE_DOCKERD_LOG:-/var/log/ptfe-ops-dockerd.log}

is_debian_root() { [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v iptables >/dev/null || missing+=(iptables)
command -v gpg >/dev/null || missing+=(gnupg)

if [ ${#missing[@]} -gt 0 ]; then
  if is_debian_root; then
    echo "installing ${missing[*]} from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  elif ! docker info >/dev/null 2>&1 || ! command -v debootstrap >/dev/null || ! command -v gpg >/dev/null; then
    cat >&2 <<MSG
The test rig needs a Docker engine, debootstrap and gpg, and this machine lacks: ${missing[*]}.
On Debian or Ubuntu, as root:   apt-get install docker.io debootstrap iptables gnupg && dockerd &
Elsewhere: install Docker Engine (https://docs.docker.com/engine/install/), debootstrap and GnuPG, start the
engine, make sure 'docker info' works for this user, then run make again.
MSG
    exit 1
  fi
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! is_debian_root; then
  echo "No Docker engine answers ('docker info' fails). Start one (e.g. 'sudo systemctl start docker') and run make again." >&2
  exit 1
fi

echo "starting dockerd (log: $log)" >&2
# A session of its own: a test run or a job that signals its whole process group on the way out must not take
# the engine (and every container of the next run) with it.
setsid nohup dockerd >"$log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "dockerd did not answer within 60 s; last lines of $log:" >&2
tail -20 "$log" >&2
exit 1
