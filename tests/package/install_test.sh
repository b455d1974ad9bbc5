#!/bin/bash
# The clean-machine install test (ctest label `package`, run as root): a fresh Debian bookworm
# (debootstrap, cached by scripts/package) gets dist/loxcan_<version>_<arch>.deb the way a user
# installs it, and must show:
#   dpkg -i alone names the missing dependencies; apt-get install ./deb pulls every dependency
#   loxcan --version, loxcan-gateway --check-config on the shipped config, the units (verified by
#   systemd-analyze), the sysusers entry and the loxcan user, both man pages
#   an edited /etc/loxcan/loxcan.yaml survives a reinstall and an upgrade
#   an upgrade with an invalid /etc/loxcan/loxcan.yaml succeeds, restarts nothing and logs
#   file:line:column; with a valid one the running gateway is restarted
#   a package for a foreign architecture is refused with a clear message
#   apt-get purge leaves only the loxcan system user (listed)
# Args: SOURCE_DIR [ARCH]. Needs network access to the Debian mirror of this machine's apt.
set -u
src=$1 arch=${2:-$(dpkg --print-architecture)}
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (chroot)"; exit 77; }
version=$(sed -nE 's/^project\(loxcan VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
deb=$src/dist/loxcan_${version}_$arch.deb
[ -s "$deb" ] || fail "$deb is missing: run scripts/package deb first"

root=$(mktemp -d /var/tmp/loxcan-install-test.XXXXXX)
cleanup() {
  mountpoint -q "$root/proc" && umount "$root/proc"
  mountpoint -q "$root/dev" && umount -R "$root/dev"
  # Never remove through a mount that is still there (it would be this machine's /dev).
  if grep -q " $root/" /proc/self/mounts; then echo "mounts left under $root, not removed" >&2; else rm -rf "$root"; fi
}
trap cleanup EXIT
"$src/scripts/package" root "$root" || fail "no bookworm root"
# /dev with /dev/pts: apt writes /var/log/apt/term.log only with a pseudo-terminal.
mount -t proc proc "$root/proc"; mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"
# Inside the root: chroot with a clean environment.
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
mkdir -p "$root/pkgs" && cp "$deb" "$root/pkgs/"
pkg=/pkgs/$(basename "$deb")
in_root apt-get update -qq || fail "apt-get update in the root"

# --- a missing dependency: dpkg alone refuses to configure and names what is missing.
out=$(in_root dpkg -i "$pkg" 2>&1) && fail "dpkg -i without the dependencies succeeded"
grep -qE "loxcan depends on lib[a-z0-9.+-]+( \([^)]*\))?; however" <<<"$out" || { echo "$out"; fail "dpkg did not name the missing dependency"; }
pass "dpkg -i alone: $(grep -m1 -oE 'loxcan depends on lib[^;]+' <<<"$out" | head -1) (and the others)"
in_root dpkg --remove loxcan >/dev/null 2>&1 || fail "removing the unconfigured package"

# --- apt pulls every dependency by itself.
in_root apt-get install -y -q "$pkg" >"$root/install.log" 2>&1 || { cat "$root/install.log"; fail "apt-get install ./deb"; }
pass "apt-get install ./$(basename "$deb"): $(grep -oE '[0-9]+ newly installed' "$root/install.log")"
expect_out() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; pass "$3"; }
expect_out "$(in_root loxcan --version)" "loxcan $version" "loxcan --version"
expect_out "$(in_root loxcan-gateway --version)" "loxcan-gateway $version" "loxcan-gateway --version"
out=$(in_root loxcan-gateway --check-config --config /etc/loxcan/loxcan.yaml 2>&1) || { echo "$out"; fail "check-config of the shipped config"; }
pass "loxcan-gateway --check-config --config /etc/loxcan/loxcan.yaml: $out"
for f in /lib/systemd/system/loxcan-gateway.service /lib/systemd/system/loxcan-gateway@.service \
         /usr/lib/sysusers.d/loxcan.conf /usr/share/man/man8/loxcan-gateway.8.gz \
         /usr/share/man/man1/loxcan.1.gz /etc/loxcan/loxcan.yaml; do
  [ -e "$root$f" ] || fail "missing: $f"
done
pass "units, sysusers entry, man pages and config in place"
grep -qx "/etc/loxcan/loxcan.yaml" "$root/var/lib/dpkg/info/loxcan.conffiles" || fail "loxcan.yaml is not a conffile"
pass "/etc/loxcan/loxcan.yaml is a conffile"
in_root getent passwd loxcan >/dev/null || fail "no loxcan user (systemd-sysusers in postinst)"
pass "system user: $(in_root getent passwd loxcan)"
in_root man -w loxcan-gateway >/dev/null 2>&1 || [ ! -x "$root/usr/bin/man" ] || fail "man -w loxcan-gateway"
# systemd-analyze checks Documentation=man:... with man(1): a Pi has man-db, debootstrap's minbase not.
in_root apt-get install -y -q --no-install-recommends man-db >/dev/null 2>&1 || fail "installing man-db"
for unit in loxcan-gateway.service loxcan-gateway@bus1.service; do
  out=$(in_root systemd-analyze verify "$unit" 2>&1) || { echo "$out"; fail "systemd-analyze verify $unit"; }
  [ -z "$(grep -v 'mosquitto.service' <<<"$out")" ] || { echo "$out"; fail "systemd-analyze verify $unit printed warnings"; }
  pass "systemd-analyze verify $unit"
done

# --- restarts on upgrade are observed through a diverted deb-systemd-invoke (no systemd runs here).
mkdir -p "$root/run/systemd/system"
in_root dpkg-divert --quiet --local --rename --add /usr/bin/deb-systemd-invoke
printf '#!/bin/sh\necho "$*" >> /invoke.log\n' > "$root/usr/bin/deb-systemd-invoke"; chmod +x "$root/usr/bin/deb-systemd-invoke"
# An upgrade: the same package with a higher version.
next=${version}+test1
rm -rf "$root/repack" && dpkg-deb -R "$deb" "$root/repack"
sed -i "s/^Version: .*/Version: $next/" "$root/repack/DEBIAN/control"
dpkg-deb -b -Zgzip "$root/repack" "$root/pkgs/loxcan_${next}_$arch.deb" >/dev/null && rm -rf "$root/repack"

# An enabled template instance with its own valid file (restarted too) and one with an invalid file.
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
for i in bus1 bus2; do
  ln -s /lib/systemd/system/loxcan-gateway@.service "$root/etc/systemd/system/multi-user.target.wants/loxcan-gateway@$i.service"
done
printf 'interfaces:\n  - name: can1\n    role: link\n' > "$root/etc/loxcan/bus1.yaml"
printf 'mqtt:\n  base_topic: "a/#"\n' > "$root/etc/loxcan/bus2.yaml"

# --- an edited config survives a reinstall and an upgrade; a valid config restarts the gateway.
sed -i 's/^  stats_interval_s: 60 /  stats_interval_s: 30 /' "$root/etc/loxcan/loxcan.yaml"
grep -q '^  stats_interval_s: 30 ' "$root/etc/loxcan/loxcan.yaml" || fail "could not edit the config"
in_root apt-get install -y -q --reinstall "$pkg" >"$root/reinstall.log" 2>&1 || { cat "$root/reinstall.log"; fail "reinstall"; }
grep -q '^  stats_interval_s: 30 ' "$root/etc/loxcan/loxcan.yaml" || fail "reinstall overwrote the edited config"
pass "the edited /etc/loxcan/loxcan.yaml survives a reinstall"
: > "$root/invoke.log"
in_root apt-get install -y -q "/pkgs/loxcan_${next}_$arch.deb" >"$root/upgrade.log" 2>&1 || { cat "$root/upgrade.log"; fail "upgrade"; }
grep -q '^  stats_interval_s: 30 ' "$root/etc/loxcan/loxcan.yaml" || fail "upgrade overwrote the edited config"
pass "the edited /etc/loxcan/loxcan.yaml survives an upgrade to $next"
grep -qx "try-restart loxcan-gateway.service" "$root/invoke.log" || { cat "$root/invoke.log"; fail "valid config: no try-restart on upgrade"; }
pass "upgrade with a valid config: try-restart loxcan-gateway.service"
grep -qx "try-restart loxcan-gateway@bus1.service" "$root/invoke.log" || { cat "$root/invoke.log"; fail "instance bus1 not restarted"; }
grep -q "loxcan-gateway@bus2" "$root/invoke.log" && fail "instance bus2 restarted into an invalid config"
grep -q "/etc/loxcan/bus2.yaml:2:15: mqtt.base_topic" "$root/upgrade.log" || { cat "$root/upgrade.log"; fail "bus2's error not reported"; }
pass "instances: bus1 (valid) restarted, bus2 (invalid) not, its error reported with file:line:column"
rm -f "$root"/etc/systemd/system/multi-user.target.wants/loxcan-gateway@bus2.service "$root/etc/loxcan/bus2.yaml"

# --- an invalid config at upgrade time: the upgrade succeeds, nothing restarts, file:line:column.
sed -i 's/^  stats_interval_s: 30 /  stats_interval_s: lots /' "$root/etc/loxcan/loxcan.yaml"
bad_line=$(grep -n '^  stats_interval_s: lots ' "$root/etc/loxcan/loxcan.yaml" | cut -d: -f1)
[ -n "$bad_line" ] || fail "could not break the config"
: > "$root/invoke.log"
in_root apt-get install -y -q --reinstall "/pkgs/loxcan_${next}_$arch.deb" >"$root/bad.log" 2>&1 || { cat "$root/bad.log"; fail "upgrade with an invalid config failed"; }
pass "upgrade with an invalid config succeeds"
grep -qx "try-restart loxcan-gateway.service" "$root/invoke.log" && { cat "$root/invoke.log"; fail "restarted into an invalid config"; }
pass "upgrade with an invalid config: loxcan-gateway.service not restarted (instance bus1, valid: $(grep -c 'loxcan-gateway@bus1' "$root/invoke.log") restart)"
want="/etc/loxcan/loxcan.yaml:$bad_line:[0-9]+: mqtt.stats_interval_s: .*lots"
grep -qE "$want" "$root/bad.log" || { cat "$root/bad.log"; fail "no file:line:column diagnostic in the apt output"; }
grep -qE "$want" "$root/var/log/apt/term.log" || fail "no file:line:column diagnostic in /var/log/apt/term.log"
pass "the apt output and /var/log/apt/term.log say: $(grep -m1 -oE "$want.*" "$root/bad.log")"
in_root dpkg-divert --quiet --local --rename --remove /usr/bin/deb-systemd-invoke 2>/dev/null || \
  { rm -f "$root/usr/bin/deb-systemd-invoke"; in_root dpkg-divert --quiet --local --rename --remove /usr/bin/deb-systemd-invoke; }
rmdir "$root/run/systemd/system"

# --- a package for another architecture is refused with a clear message.
other=arm64; [ "$arch" = arm64 ] && other=amd64
if [ -s "$src/dist/loxcan_${version}_$other.deb" ]; then
  cp "$src/dist/loxcan_${version}_$other.deb" "$root/pkgs/"
  out=$(in_root dpkg -i "/pkgs/loxcan_${version}_$other.deb" 2>&1) && fail "a $other package installed on $arch"
  grep -q "package architecture ($other) does not match system ($arch)" <<<"$out" || { echo "$out"; fail "no clear architecture message"; }
  pass "the $other package is refused: $(grep -o "package architecture.*" <<<"$out")"
else
  echo "note: dist/loxcan_${version}_$other.deb not built, the wrong-architecture check did not run"
fi

# --- purge: what the package and the gateway wrote goes; list what stays. The instance file and
# its enable link are the user's own: they stay (checked), then go by hand before the search.
rm -f "$root"/etc/systemd/system/multi-user.target.wants/loxcan-gateway@bus1.service
mkdir -p "$root/var/lib/loxcan/bus1" && echo "{}" > "$root/var/lib/loxcan/bus1/state.yaml"  # as the daemon would
in_root apt-get purge -y -q loxcan >"$root/purge.log" 2>&1 || { cat "$root/purge.log"; fail "purge"; }
[ -f "$root/etc/loxcan/bus1.yaml" ] || fail "purge removed the user's own /etc/loxcan/bus1.yaml"
pass "purge keeps the user's own /etc/loxcan/bus1.yaml"
rm -f "$root/etc/loxcan/bus1.yaml"; rmdir "$root/etc/loxcan"
left=$(cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./pkgs -o -path ./var/log \
         -o -path ./var/cache/apt -o -path ./var/lib/apt/lists -o -path ./var/cache/man \) -prune -o -iname '*loxcan*' -print)
[ -z "$left" ] || { echo "$left"; fail "purge left files behind"; }
pass "apt-get purge: no file or directory named *loxcan* is left (state directory removed)"
echo "left on purpose: $(grep -h '^loxcan:' "$root/etc/passwd" "$root/etc/group" | cut -d: -f1-4 | paste -sd' ')" \
  "(the system user and group: Debian never deletes system users, files they own may survive elsewhere);" \
  "apt's own logs in /var/log/apt;" \
  "man-db's cache of pages viewed: $(cd "$root" && find ./var/cache/man -iname '*loxcan*' | paste -sd' ')" \
  "(made by systemd-analyze's man check; man-db expires it)"
echo "PASS: clean-machine install of $(basename "$deb")"
