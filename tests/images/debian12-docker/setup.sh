#!/bin/sh
# Runs inside the fresh rootfs before it is imported.
set -e
# No init system runs in the test container: keep package scripts from trying to start services.
rm -f /usr/sbin/policy-rc.d
# A tiny rootfs for the nested engine: `docker import` of it needs no registry. busybox-static brings
# a static shell, nc and httpd, which is all a published test service needs.
mkdir -p /opt/ptfe-fw/rootfs/bin /opt/ptfe-fw/rootfs/www
cp /bin/busybox /opt/ptfe-fw/rootfs/bin/busybox
for applet in sh nc httpd echo cat sleep; do
  ln -sf busybox "/opt/ptfe-fw/rootfs/bin/$applet"
done
echo "nested-docker-ok" > /opt/ptfe-fw/rootfs/www/index.html
tar -C /opt/ptfe-fw/rootfs -cf /opt/ptfe-fw/rootfs.tar .
rm -rf /opt/ptfe-fw/rootfs
