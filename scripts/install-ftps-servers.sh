#!/bin/sh
# Installs the real FTPS servers that the ftps-gateway interop tests start
# (vsftpd and ProFTPD with mod_tls) on Debian, and the system user that vsftpd
# logs in. Idempotent: run it as often as you like.
#
#   vsftpd   : installed with apt-get (package vsftpd).
#   ProFTPD  : conflicts with vsftpd as a package, so proftpd-core and
#              proftpd-mod-crypto (mod_tls) are fetched with `apt-get download`
#              and unpacked with `dpkg -x` into $FTPS_SERVERS_PREFIX/proftpd;
#              the shared libraries they need are installed with apt-get.
#   user     : ftpsgw-test (password ftpsgw-test-password, shell /bin/sh which
#              must be in /etc/shells for vsftpd's PAM check, home
#              /var/lib/ftpsgw-test, read-only). The tests use vsftpd's
#              local_root, so the home is never written.
#
# Environment: FTPS_SERVERS_PREFIX (default /opt/ftps-gateway-test-servers);
# the tests read the same variable.
set -eu

PREFIX="${FTPS_SERVERS_PREFIX:-/opt/ftps-gateway-test-servers}"
TEST_USER=ftpsgw-test
TEST_PASSWORD=ftpsgw-test-password

if [ "$(id -u)" != 0 ]; then
    echo "install-ftps-servers.sh: must run as root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

need_update=0
for p in vsftpd openssl curl; do
    dpkg -s "$p" >/dev/null 2>&1 || need_update=1
done
[ -x "$PREFIX/proftpd/usr/sbin/proftpd" ] || need_update=1
if [ "$need_update" = 1 ]; then
    apt-get update -qq
fi

# vsftpd (and openssl/curl used by the tests and the benchmark).
dpkg -s vsftpd openssl curl >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends vsftpd openssl curl
# The Debian package starts a service on port 21 where an init system runs; the
# tests start their own instances and do not need it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet vsftpd 2>/dev/null; then
    systemctl stop vsftpd || true
    systemctl disable vsftpd || true
fi
mkdir -p /var/run/vsftpd/empty

# ProFTPD, unpacked.
if [ ! -x "$PREFIX/proftpd/usr/sbin/proftpd" ] || [ ! -f "$PREFIX/proftpd/usr/lib/proftpd/mod_tls.so" ]; then
    work="$(mktemp -d)"
    (cd "$work" && apt-get download proftpd-core proftpd-mod-crypto)
    mkdir -p "$PREFIX/proftpd"
    for deb in "$work"/*.deb; do
        dpkg -x "$deb" "$PREFIX/proftpd"
    done
    rm -rf "$work"
fi
# Shared libraries the unpacked binaries need: install the packages that
# provide the missing ones (libraries do not conflict with vsftpd).
missing="$(ldd "$PREFIX/proftpd/usr/sbin/proftpd" "$PREFIX/proftpd/usr/lib/proftpd/mod_tls.so" 2>/dev/null | awk '/not found/ {print $1}' | sort -u)"
if [ -n "$missing" ]; then
    pkgs=""
    for lib in $missing; do
        pkg="$(apt-file search -l "$lib" 2>/dev/null | head -n1 || true)"
        [ -n "$pkg" ] && pkgs="$pkgs $pkg"
    done
    if [ -z "$pkgs" ]; then
        # Without apt-file: the runtime dependencies of proftpd-core and
        # proftpd-mod-crypto that are libraries.
        pkgs="$(apt-cache depends proftpd-core proftpd-mod-crypto 2>/dev/null | awk '/Depends: lib/ {print $2}' | sort -u | tr '\n' ' ')"
    fi
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs
    still="$(ldd "$PREFIX/proftpd/usr/sbin/proftpd" "$PREFIX/proftpd/usr/lib/proftpd/mod_tls.so" 2>/dev/null | awk '/not found/ {print $1}' | sort -u)"
    if [ -n "$still" ]; then
        echo "install-ftps-servers.sh: ProFTPD still misses: $still" >&2
        exit 1
    fi
fi

# The vsftpd login user. vsftpd changes into the home directory before
# local_root, so it must exist (root-owned and read-only: vsftpd refuses a
# writable chroot).
TEST_HOME=/var/lib/ftpsgw-test
grep -qx /bin/sh /etc/shells || echo /bin/sh >> /etc/shells
mkdir -p "$TEST_HOME"
chown root:root "$TEST_HOME"
chmod 755 "$TEST_HOME"
if ! id "$TEST_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir "$TEST_HOME" --shell /bin/sh "$TEST_USER"
else
    usermod --home "$TEST_HOME" --shell /bin/sh "$TEST_USER"
fi
echo "$TEST_USER:$TEST_PASSWORD" | chpasswd
# vsftpd's PAM stack denies users listed in /etc/ftpusers.
if [ -f /etc/ftpusers ]; then
    sed -i "/^$TEST_USER\$/d" /etc/ftpusers
fi

echo "vsftpd:  $(command -v vsftpd)"
echo "proftpd: $PREFIX/proftpd/usr/sbin/proftpd"
echo "user:    $TEST_USER"
