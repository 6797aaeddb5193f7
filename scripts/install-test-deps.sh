#!/bin/sh
# Installs what the CMS interop tests (oftp2-session/tests/cms_interop.rs) need on Debian:
# Bouncy Castle (libbcprov-java, libbcpkix-java; libbcutil-java comes with them), since
# Debian's OpenSSL has no zlib and CompressedData interop goes through Bouncy Castle, and
# a JDK (default-jdk-headless) only if `javac` is missing. Idempotent, and quick when all
# is installed already. Run as root.
set -eu

if [ "$(id -u)" != 0 ]; then
    echo "install-test-deps.sh: must run as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

pkgs=""
for p in libbcprov-java libbcpkix-java openssl; do
    dpkg -s "$p" >/dev/null 2>&1 || pkgs="$pkgs $p"
done
command -v javac >/dev/null 2>&1 || pkgs="$pkgs default-jdk-headless"

if [ -n "$pkgs" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs
fi

for jar in bcprov.jar bcpkix.jar; do
    if [ ! -f "/usr/share/java/$jar" ]; then
        echo "install-test-deps.sh: /usr/share/java/$jar is missing after installing" >&2
        exit 1
    fi
done
command -v javac >/dev/null 2>&1 || { echo "install-test-deps.sh: javac still missing" >&2; exit 1; }
