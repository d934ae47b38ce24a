#!/bin/sh
# Runs inside the fresh rootfs before it is imported.
set -e
# pg-start makes its own cluster on first start: drop the one the package's maintainer script made.
if [ -d /etc/postgresql/15/main ]; then
  pg_dropcluster 15 main
fi
# Keep the image small: no documentation, manual pages or message catalogues; and no JIT, whose LLVM libraries
# (libllvm14 and its libz3-4) are half of the image (only llvmjit.so links them; postgres runs without it, and
# pg-start turns jit off). The packages go with --force-depends: nothing is installed in this image later.
rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
rm -f /usr/lib/postgresql/15/lib/llvmjit*.so
rm -rf /usr/lib/postgresql/15/lib/bitcode
dpkg --purge --force-depends libllvm14 libz3-4 >/dev/null 2>&1
chmod 0755 /usr/local/bin/pg-start
