#!/usr/bin/env bash
# The workspace's test command (README): installs what the tests need, then runs them all.
#
# The ftps-gateway interop tests start real vsftpd and ProFTPD servers, and the TLS and
# CMS tests call the openssl command line: scripts/install-ftps-servers.sh installs them
# on Debian (as root, which the vsftpd tests need too). Set FTPS_GATEWAY_SKIP_SERVERS=1
# to skip the real-server tests on a machine where that is not possible.
#
# The CMS interop tests run Bouncy Castle through javac/java: scripts/install-test-deps.sh
# installs Debian's libbcprov-java and libbcpkix-java (and a JDK if javac is missing).
# OFTP_REQUIRE_INTEROP=1 makes those tests fail, never skip, when Java is missing.
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

if [ "$(id -u)" = 0 ]; then
  sh scripts/install-test-deps.sh
elif ! command -v javac >/dev/null 2>&1 || [ ! -f /usr/share/java/bcpkix.jar ]; then
  echo "scripts/test.sh: javac or Bouncy Castle is missing and this is not root;" >&2
  echo "  run scripts/install-test-deps.sh as root first" >&2
  exit 1
fi
export OFTP_REQUIRE_INTEROP=1

cargo test --workspace --all-features
