#!/usr/bin/env bash
# The workspace's test command (README): installs what the tests need, then runs them all.
#
# The ftps-gateway interop tests start real vsftpd and ProFTPD servers, and the TLS and
# CMS tests call the openssl command line: scripts/install-ftps-servers.sh installs them
# on Debian (as root, which the vsftpd tests need too). Set FTPS_GATEWAY_SKIP_SERVERS=1
# to skip the real-server tests on a machine where that is not possible.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${FTPS_GATEWAY_SKIP_SERVERS:-0}" != 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    sh scripts/install-ftps-servers.sh
  else
    echo "scripts/test.sh: not root, so the FTPS servers cannot be installed;" >&2
    echo "  run as root, or set FTPS_GATEWAY_SKIP_SERVERS=1 to skip those tests" >&2
    exit 1
  fi
fi

cargo test --workspace --all-features
