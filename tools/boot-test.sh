#!/usr/bin/env bash
# Whole-system boot test (issue 15): an emulated arm64 board boots Debian 12,
# installs the arm64 .deb that CI built, and the ticker service draws on a
# KMS display. The closest we get to a Raspberry Pi without one.
#
#   bash tools/boot-test.sh [PACKAGE.deb]     # default: build-pkg/ or build-arm64/
#   KT_BOOT_CACHE=/var/cache/kiosk-ticker-boot   where the root file system is kept
#   KT_BOOT_OUT=build-boot                       logs, journals, screen dumps
#   KT_BOOT_REBUILD=1                            build the image even if cached
#   KT_BOOT_VERBOSE=1                            mmdebstrap --verbose
#   bash tools/boot-test.sh --image [PACKAGE]    only build (or find) the cached image
#
# What it does:
#  1. Image (cached): mmdebstrap builds a Debian 12 arm64 root file system with
#     Debian's kernel, systemd, Mesa (GBM, EGL, GLES, the DRI drivers), the
#     guest agent, and the ticker's libraries read from the package's own
#     Depends: (dpkg-deb -f), never a hand-kept list. The arm64 maintainer
#     scripts run under qemu-user through binfmt_misc, registered here for the
#     build and removed again on exit (trap), even on failure. initramfs-tools
#     is set to MODULES=list (the virtio modules): the default MODULES=most
#     takes far too long under qemu-user. The image is kept in $KT_BOOT_CACHE
#     under a key hashed from the package list, the apt sources and this
#     script's IMAGE_VERSION, so a change of any of them builds a new one.
#  2. Each run boots a copy-on-write overlay of that image under
#     qemu-system-aarch64 -M virt -cpu cortex-a53 (TCG) with virtio-gpu, no X,
#     no login; the serial console goes to a log file, QMP to a unix socket
#     (screendump).
#  3. Boot 1, as on a Pi: `apt install ./kiosk-ticker_*_arm64.deb` in the
#     running system (maintainer scripts under systemd), a test config (a
#     local feed file and a feed served by the host at 10.0.2.2),
#     `systemctl enable --now kiosk-ticker`; then the checks below, a reload,
#     a stop, and a drop-in that sets KT_RENDERER=accelerated.
#     Boot 2: the service comes up by itself with the host's feed server down
#     (the cached headlines must be on screen), then the server comes back
#     with new headlines, which must arrive; stop again; a rough CPU figure.
#
# Renderer: boot 1 runs the unit as shipped, so the ticker's own policy
# decides; under virtio-gpu without virgl the only GL is Mesa's llvmpipe and
# the policy (src/render.c, render_open_window) deliberately falls back to
# SDL's software renderer, which the log must say. Boot 2 sets
# KT_RENDERER=accelerated in a drop-in (as `systemctl edit` would) so the
# OpenGL ES 2 renderer on GBM/EGL, the path a Pi's vc4/v3d takes, runs too.
#
# Channel into the guest: qemu-guest-agent (guest-exec, guest-file-*) on a
# virtio-serial port, spoken to by tools/boot_test.py. It is Debian's own
# package, needs no network, no keys and no login, is started by udev when
# the port appears, and leaves the guest's network to the ticker alone
# (ssh would need keys, a host port forward and a daemon the Pi image
# does not need).
#
# Every check prints "boot-test: ok: ..." or "boot-test: FAIL: ..." with what
# it saw; the exit status is non-zero if any failed. A machine where the test
# cannot run (no qemu-system-aarch64 after installing it, no binfmt_misc, the
# mirror failing) fails loudly with the reason: it never passes by skipping.
# Timing bounds are generous (TCG on a shared 2-core machine); the one exact
# bound the issue asks for, "stop within a second", is measured from systemd's
# own timestamps inside the guest, not from the host's clock.
set -euo pipefail

IMAGE_VERSION=1 # bump when the image recipe below changes
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KT_BOOT_CACHE:-/var/cache/kiosk-ticker-boot}
OUT=${KT_BOOT_OUT:-$ROOT/build-boot}
HELPER="/usr/bin/python3 $ROOT/tools/boot_test.py"
MMDEBSTRAP_VERBOSITY=--quiet
[ "${KT_BOOT_VERBOSE:-0}" = 0 ] || MMDEBSTRAP_VERBOSITY=--verbose
SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

# The guest: what a Pi Zero 2 W has (512 MB), two emulated cores (the host
# has two, shared), a 1280x720 screen.
GUEST_MEM=512
GUEST_CPUS=2
SCREEN_W=1280
SCREEN_H=720

# The test config's look (the checks read the screen with these).
BG1="#103060"   # background at boot
BG2="#602010"   # background after the reload
SPEED=120       # px/s
FULL_BLOCKS="████████"  # the network feed's headline before the restart
HALF_BLOCKS="▄▄▄▄▄▄▄▄"  # ... and after: told apart on screen by shape

passed=0
failed=0
timings=""
say() { echo "boot-test: $*"; }
ok() { echo "boot-test: ok: $*"; passed=$((passed + 1)); }
fail() { echo "boot-test: FAIL: $*"; failed=$((failed + 1)); }
die() { # the test cannot run at all: loud, and never a pass
    echo "boot-test: FAIL: cannot run the boot test: $*" >&2
    exit 2
}
timing() { timings="$timings$(printf '  %-34s %5ss' "$1" "$2")\n"; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }

# --- host tools ---------------------------------------------------------------
# The packages are listed once, as BOOT= in tools/install-deps.sh.
install_host_tools() {
    sh "$ROOT/tools/install-deps.sh" --boot >/dev/null || die "sh tools/install-deps.sh --boot failed (mirror unreachable?)"
    command -v qemu-system-aarch64 >/dev/null || die "no qemu-system-aarch64 after installing qemu-system-arm"
    [ -x /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] || die "no qemu-aarch64 binfmt interpreter after installing qemu-user-static"
    command -v mmdebstrap >/dev/null && command -v arch-test >/dev/null || die "mmdebstrap or arch-test missing after installing them"
}

# --- binfmt_misc: only while the image is built -------------------------------
# mmdebstrap --mode=root runs the arm64 maintainer scripts in a chroot: the
# kernel must hand arm64 programs to qemu-user. Registered from
# qemu-user-static's own binfmt.d entry (flag F: the interpreter is opened
# now, so it works inside the chroot); whatever this run added is removed
# again by binfmt_undo, which the EXIT trap calls.
BINFMT=/proc/sys/fs/binfmt_misc
binfmt_mounted_here=0
binfmt_registered_here=0
binfmt_setup() {
    if [ ! -e "$BINFMT/register" ]; then
        mount -t binfmt_misc binfmt_misc "$BINFMT" 2>/dev/null ||
            die "cannot mount binfmt_misc on $BINFMT (needed to run arm64 maintainer scripts)"
        binfmt_mounted_here=1
    fi
    if [ -e "$BINFMT/qemu-aarch64" ]; then
        say "binfmt: qemu-aarch64 is already registered (not by this run; left as it is)"
    else
        local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
        [ -f "$conf" ] || die "$conf missing (qemu-user-static)"
        grep -v '^#' "$conf" | head -n 1 > "$BINFMT/register" ||
            die "cannot register qemu-aarch64 with binfmt_misc"
        binfmt_registered_here=1
        say "binfmt: registered qemu-aarch64 for the image build"
    fi
    arch-test arm64 >/dev/null 2>&1 || die "arch-test arm64 fails: arm64 programs do not run here"
}
binfmt_undo() {
    if [ $binfmt_registered_here = 1 ] && [ -e "$BINFMT/qemu-aarch64" ]; then
        echo -1 > "$BINFMT/qemu-aarch64" && say "binfmt: qemu-aarch64 unregistered"
        binfmt_registered_here=0
    fi
    if [ $binfmt_mounted_here = 1 ]; then
        umount "$BINFMT" && say "binfmt: binfmt_misc unmounted"
        binfmt_mounted_here=0
    fi
}

# --- the image ----------------------------------------------------------------
# What a Pi running Raspberry Pi OS Lite has that matters here: the kernel,
# systemd and udev, dbus, Mesa's GBM/EGL/GLES and DRI drivers. Plus what the
# test itself needs: initramfs-tools (Debian's kernel has virtio-blk and ext4
# as modules), the guest agent, sysbench (the rough CPU figure).
IMAGE_BASE="linux-image-arm64 initramfs-tools systemd-sysv udev dbus kmod"
IMAGE_MESA="libgl1-mesa-dri libegl1 libgles2 libgbm1"
IMAGE_TEST="qemu-guest-agent sysbench"
INITRAMFS_MODULES="virtio_pci virtio_blk virtio_net virtio_console virtio_gpu ext4"

# The package's Depends: first of each alternative, versions dropped.
deb_depends() {
    dpkg-deb -f "$1" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep . | sort -u
}

image_sources() { sh "$ROOT/tools/cross-setup.sh" --print-sources; }

# image_key DEB: a hash of everything the image is made from.
image_key() {
    { echo "IMAGE_VERSION=$IMAGE_VERSION suite=$SUITE"
      echo "$IMAGE_BASE $IMAGE_MESA $IMAGE_TEST" | tr ' ' '\n' | sort
      deb_depends "$1"
      echo "modules: $INITRAMFS_MODULES"
      image_sources
      sed -n '/^image_build()/,/^}/p' "$0"   # the recipe itself
    } | sha256sum | cut -c1-16
}

# image_build DIR DEB: DIR/rootfs.img (raw ext4), DIR/vmlinuz, DIR/initrd.img
image_build() {
    local dir=$1 deb=$2 work incl sources
    work="$dir/work"
    rm -rf "$work"
    mkdir -p "$work"
    image_sources > "$work/sources.list"
    [ -s "$work/sources.list" ] || die "no Debian apt sources on this host (tools/cross-setup.sh --print-sources)"
    incl=$({ echo "$IMAGE_BASE $IMAGE_MESA $IMAGE_TEST" | tr ' ' '\n'; deb_depends "$deb"; } |
        grep . | sort -u | paste -sd, -)
    say "image: mmdebstrap arm64 with $incl"
    binfmt_setup
    # No dpkg path-exclude options: mmdebstrap then filters every essential
    # package through mmtarfilter, which took 4 of 17 minutes here.
    # essential-hook: before the kernel is installed, so its initramfs is made
    # once, with only the listed modules (not a conffile: no dpkg prompt).
    # customize-hook: network (DHCP on the virtio NIC, systemd-networkd), no
    # apt timers (the image must not reach for the mirror), the hostname.
    mmdebstrap --mode=root --arch=arm64 --variant=apt "$MMDEBSTRAP_VERBOSITY" \
        --include="$incl" --dpkgopt=force-unsafe-io \
        --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
        --essential-hook="printf 'MODULES=list\nCOMPRESS=gzip\n' > \"\$1/etc/initramfs-tools/conf.d/kt-boot-test\"" \
        --essential-hook="printf '%s\n' $INITRAMFS_MODULES > \"\$1/usr/share/initramfs-tools/modules.d/kt-boot-test\"" \
        --customize-hook='echo kiosk-boot-test > "$1/etc/hostname"' \
        --customize-hook='printf "127.0.0.1 localhost\n127.0.1.1 kiosk-boot-test\n" > "$1/etc/hosts"' \
        --customize-hook='echo "/dev/vda / ext4 rw,noatime 0 1" > "$1/etc/fstab"' \
        --customize-hook='mkdir -p "$1/etc/systemd/network" && printf "[Match]\nName=en* eth*\n[Network]\nDHCP=ipv4\n" > "$1/etc/systemd/network/20-wired.network"' \
        --customize-hook='systemctl --root="$1" enable systemd-networkd.service' \
        --customize-hook='systemctl --root="$1" mask apt-daily.timer apt-daily-upgrade.timer' \
        --customize-hook='cp "$1"/boot/vmlinuz-* "$1/../vmlinuz" && cp "$1"/boot/initrd.img-* "$1/../initrd.img"' \
        "$SUITE" "$work/root" "$work/sources.list" ||
        die "mmdebstrap failed (see above: mirror or binfmt?)"
    binfmt_undo
    [ -s "$work/vmlinuz" ] && [ -s "$work/initrd.img" ] || die "image: no kernel or initramfs in /boot"
    dpkg-query --admindir="$work/root/var/lib/dpkg" -W -f='${Package} ${Version}\n' > "$work/packages.txt"
    local mb
    mb=$(du -sm "$work/root" | cut -f1)
    truncate -s $((mb * 13 / 10 + 512))M "$work/rootfs.img"
    mkfs.ext4 -q -F -L kiosk-root -d "$work/root" "$work/rootfs.img" || die "mkfs.ext4 -d failed"
    rm -rf "$work/root"
    mv "$work/rootfs.img" "$work/vmlinuz" "$work/initrd.img" "$work/packages.txt" "$work/sources.list" "$dir/"
    rmdir "$work"
    say "image: ${mb} MB of files, $(wc -l < "$dir/packages.txt") packages, kernel $(grep '^linux-image-[0-9]' "$dir/packages.txt" | cut -d' ' -f1)"
}

# image_get DEB: sets IMAGE_DIR, building the image if it is not cached.
image_get() {
    local deb=$1 key t
    key=$(image_key "$deb")
    IMAGE_DIR="$CACHE/arm64-$key"
    mkdir -p "$CACHE"
    exec 9> "$CACHE/.lock"
    flock 9 # one build at a time on this machine
    if [ "${KT_BOOT_REBUILD:-0}" = 1 ]; then rm -rf "$IMAGE_DIR"; fi
    if [ -f "$IMAGE_DIR/ready" ]; then
        say "image: cached $IMAGE_DIR (built in $(cat "$IMAGE_DIR/ready")s)"
        IMAGE_FRESH=0
    else
        rm -rf "$IMAGE_DIR"
        mkdir -p "$IMAGE_DIR"
        t=$(date +%s)
        image_build "$IMAGE_DIR" "$deb"
        echo $(($(date +%s) - t)) > "$IMAGE_DIR/ready"
        IMAGE_FRESH=1
        # Older images (another key) are only disk space now.
        find "$CACHE" -mindepth 1 -maxdepth 1 -type d -name 'arm64-*' ! -path "$IMAGE_DIR" -exec rm -rf {} +
    fi
    flock -u 9
}


# --- the emulated board ---------------------------------------------------------
RUN="" # this run's files: $OUT/run
QEMU_PID=""
AGENTD_PID=""
HTTP_PID=""
QGA="" QMP="" CTRL=""
g() { # g [--timeout S] 'CMD': sh -c CMD as root in the guest
    local opts=()
    if [ "$1" = --timeout ]; then opts=(--timeout "$2"); shift 2; fi
    $HELPER qga "${opts[@]}" "$CTRL" exec "$@"
}
gshow() { g "systemctl show -p $2 --value $1"; }

qemu_start() { # qemu_start N: boots the overlay; returns once the agent answers
    local n=$1 t
    QGA="$RUN/qga.sock" QMP="$RUN/qmp.sock" CTRL="$RUN/agent.sock"
    rm -f "$QGA" "$QMP" "$CTRL"
    t=$(date +%s.%N)
    qemu-system-aarch64 -nodefaults -M virt -cpu cortex-a53 -accel tcg,thread=multi \
        -smp "$GUEST_CPUS" -m "$GUEST_MEM" \
        -kernel "$IMAGE_DIR/vmlinuz" -initrd "$IMAGE_DIR/initrd.img" \
        -append "root=/dev/vda rw console=ttyAMA0 vt.global_cursor_default=0" \
        -drive "file=$RUN/disk.qcow2,format=qcow2,if=none,id=disk" -device virtio-blk-pci,drive=disk \
        -netdev user,id=net0 -device virtio-net-pci,netdev=net0,romfile= \
        -device "virtio-gpu-pci,xres=$SCREEN_W,yres=$SCREEN_H" -display none \
        -device virtio-rng-pci \
        -device virtio-serial-pci -chardev "socket,id=qga,path=$QGA,server=on,wait=off" \
        -device virtserialport,chardev=qga,name=org.qemu.guest_agent.0 \
        -qmp "unix:$QMP,server=on,wait=off" \
        -serial "file:$RUN/serial-$n.log" > "$RUN/qemu-$n.log" 2>&1 &
    QEMU_PID=$!
    local i
    for i in $(seq 50); do [ -S "$QMP" ] && break; sleep 0.2; done
    kill -0 "$QEMU_PID" 2>/dev/null || die "qemu-system-aarch64 exited at once: $(cat "$RUN/qemu-$n.log")"
    $HELPER agentd "$QGA" "$CTRL" 2>> "$RUN/agentd.log" &
    AGENTD_PID=$!
    if ! $HELPER qga "$CTRL" ping --wait 420; then
        tail -n 30 "$RUN/serial-$n.log" >&2 || true
        die "boot $n: the guest agent never answered (serial console: $RUN/serial-$n.log)"
    fi
    BOOT_SECS=$(calc "$(date +%s.%N) - $t")
    say "boot $n: guest agent up $(printf '%.0f' "$BOOT_SECS") s after qemu started"
}

qemu_stop() { # clean power-off through the guest; QMP quit if it hangs
    local n=$1 i
    g "journalctl -b --no-pager -o short-monotonic" > "$RUN/journal-$n.txt" 2>&1 || true
    g --timeout 5 "systemctl --no-block poweroff" > /dev/null 2>&1 || true
    for i in $(seq 120); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 1; done
    if kill -0 "$QEMU_PID" 2>/dev/null; then
        say "boot $n: the guest did not power off in 120 s; quitting qemu"
        $HELPER qmp "$QMP" quit > /dev/null 2>&1 || kill "$QEMU_PID" 2>/dev/null || true
    fi
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=""
    agentd_stop
}
agentd_stop() { [ -z "$AGENTD_PID" ] || { kill "$AGENTD_PID" 2>/dev/null; wait "$AGENTD_PID" 2>/dev/null || true; AGENTD_PID=""; }; }

# --- the host's feed server (the guest sees the host as 10.0.2.2) -----------------
http_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
feed_xml() { # feed_xml TITLE GUID
    printf '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>boot test</title><link>http://10.0.2.2/</link><description>served by the host</description>\n<item><title>%s</title><link>http://10.0.2.2/%s</link><guid>%s</guid></item>\n</channel></rss>\n' "$1" "$2" "$2"
}
http_start() { # http_start TITLE GUID
    mkdir -p "$RUN/www"
    feed_xml "$1" "$2" > "$RUN/www/net.xml"
    /usr/bin/python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$RUN/www" >> "$RUN/http.log" 2>&1 &
    HTTP_PID=$!
    local i
    for i in $(seq 50); do
        /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/net.xml')" 2>/dev/null && return 0
        sleep 0.1
    done
    die "the host feed server did not start on port $PORT"
}
http_stop() { [ -z "$HTTP_PID" ] || { kill "$HTTP_PID" 2>/dev/null; wait "$HTTP_PID" 2>/dev/null || true; HTTP_PID=""; }; }

cleanup() {
    http_stop
    if [ -n "$QEMU_PID" ]; then kill "$QEMU_PID" 2>/dev/null || true; wait "$QEMU_PID" 2>/dev/null || true; fi
    agentd_stop
    binfmt_undo
}

# --- the screen -------------------------------------------------------------------
DUMPN=0
dump() { # dump NAME: one screendump; prints its path
    DUMPN=$((DUMPN + 1))
    $HELPER dump "$QMP" "$RUN/dumps/$(printf '%03d' $DUMPN)-$1" | cut -d' ' -f1
}
screen() { $HELPER screen "$1" --bg "$2"; }
jget() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
keep_png() { $HELPER png "$1" "$OUT/$2.png"; }

# check_strip BOOT BG: the strip is at the bottom, in its background colour, with black above.
check_strip() {
    local n=$1 bg=$2 f info top sh above share
    f=$(dump strip)
    info=$(screen "$f" "$bg")
    top=$(jget "$info" strip_top) sh=$(jget "$info" strip_h)
    above=$(jget "$info" above_nonblack) share=$(jget "$info" bg_share)
    keep_png "$f" "boot$n-screen"
    if [ "$sh" -ge 40 ] && [ "$sh" -le 200 ] && [ "$top" -eq $((SCREEN_H - sh)) ] &&
        /usr/bin/python3 -c "import sys; sys.exit(not ($above < 0.001 and $share > 0.5))"; then
        ok "boot $n: strip at the bottom: rows $top-$((SCREEN_H - 1)) ($sh px), ${share} of it background $bg, above it black (non-black share $above)"
    else
        fail "boot $n: strip not where configured (bottom, background $bg): $info"
    fi
}

# check_motion BOOT BG: screen dumps every 0.1 s for 8 s (tools/boot_test.py
# motion): the frame rate seen, and the shift between two new frames 0.8 to
# 2.5 s apart, which must be speed x their time apart. The speed is the one
# the ticker uses: rounded to whole pixels per refresh (snap_speed,
# scroll_snap_speed) at the refresh rate its log names. Under TCG the frames
# come seldom, so each is timed by the first dump that shows it.
check_motion() {
    local n=$1 bg=$2 r s want hz speed dt
    hz=$(echo "${RENDERER_LINE[$n]:-}" | sed -n 's/.*refresh \([0-9.]*\) Hz.*/\1/p')
    speed=$SPEED
    [ -z "$hz" ] || speed=$(awk "BEGIN { p = int($SPEED / $hz + 0.5); if (p < 1) p = 1; print p * $hz }")
    DUMPN=$((DUMPN + 1))
    $HELPER dump "$QMP" "$RUN/dumps/$(printf '%03d' $DUMPN)-motion" --count 80 --interval 0.1 > "$RUN/motion-$n.txt"
    r=$($HELPER motion "$RUN/motion-$n.txt" --bg "$bg" --speed "$speed")
    echo "$r" > "$RUN/motion-$n.json"
    FPS[$n]="$(jget "$r" fps) fps$([ "$(jget "$r" lower_bound)" = True ] && echo ' (at least: every dump saw a new frame)')"
    say "boot $n: $(jget "$r" new_frames) new frames in $(jget "$r" dumps) screen dumps over $(jget "$r" seconds) s: ${FPS[$n]}"
    if ! echo "$r" | grep -q '"shift"'; then
        fail "boot $n: no two new frames 0.8-2.5 s apart to measure the motion ($r)"
    else
        s=$(jget "$r" shift) want=$(jget "$r" expected) dt=$(jget "$r" dt)
        keep_png "$(jget "$r" a)" "boot$n-motion-a"
        keep_png "$(jget "$r" b)" "boot$n-motion-b"
        # Generous: a frame is timed only to a dump (0.1 s), and TCG delays
        # presents unevenly.
        if awk "BEGIN { d = $s - $want; if (d < 0) d = -d; exit !($s > 0 && (d <= 0.35 * $want || d <= 40)) }"; then
            ok "boot $n: the text moved ${s} px left in ${dt} s between two new frames (speed $SPEED px/s, ${speed} px/s snapped to ${hz:-?} Hz: ${want} px expected, +-35%)"
        else
            fail "boot $n: the text moved ${s} px in ${dt} s, ${want} px expected ($r)"
        fi
    fi
    # Only the two frames compared are kept.
    cut -d' ' -f1 "$RUN/motion-$n.txt" | grep -v -e "$(jget "$r" a 2>/dev/null || echo none)" -e "$(jget "$r" b 2>/dev/null || echo none)" | xargs rm -f
}

# wait_pattern BOOT BG KIND SECS: polls dumps until the network feed's
# headline of KIND (full_run or half_run) is on screen.
wait_pattern() {
    local n=$1 bg=$2 kind=$3 secs=$4 end f info
    end=$(($(date +%s) + secs))
    while :; do
        f=$(dump "$kind")
        info=$(screen "$f" "$bg")
        if [ "$(jget "$info" "$kind")" -ge 150 ]; then
            PATTERN_FILE=$f
            return 0
        fi
        [ "$(date +%s)" -lt "$end" ] || { PATTERN_INFO=$info; return 1; }
        sleep 1
    done
}

# --- the service, seen from inside the guest ---------------------------------------
UNIT=kiosk-ticker.service
prop() { echo "$1" | sed -n "s/^$2=//p"; }
journal() { g "journalctl -b -u $UNIT --no-pager -o cat"; }
wait_journal() { # wait_journal PATTERN SECS: the first line of the unit's log matching PATTERN
    g --timeout $(($2 + 60)) "for i in \$(seq $2); do l=\$(journalctl -b -u $UNIT --no-pager -o cat | grep -m1 -e '$1') && { echo \"\$l\"; exit 0; }; sleep 1; done; exit 1"
}

# wait_active BOOT SECS: until the unit is active (Type=notify: only after READY=1).
wait_active() {
    local n=$1 secs=$2 end state
    end=$(($(date +%s) + secs))
    while :; do
        state=$(g "systemctl is-active $UNIT && cut -d' ' -f1 /proc/uptime" 2>/dev/null || true)
        if [ "${state%%$'\n'*}" = active ]; then SEEN_ACTIVE=${state##*$'\n'}; return 0; fi
        state=${state%%$'\n'*}
        [ "$(date +%s)" -lt "$end" ] || { say "boot $n: $UNIT is '$state' after ${secs}s"; return 1; }
        sleep 2
    done
}

# check_unit BOOT: active (running), READY=1, the watchdog fed, no restarts.
check_unit() {
    local n=$1 p p2 end wd
    p=$(g "systemctl show -p ActiveState,SubState,NRestarts,Result,WatchdogUSec,WatchdogTimestampMonotonic,ExecMainStartTimestampMonotonic,ActiveEnterTimestampMonotonic $UNIT")
    if [ "$(prop "$p" ActiveState)/$(prop "$p" SubState)" = active/running ]; then
        ok "boot $n: $UNIT active (running); READY=1 came $(calc "($(prop "$p" ActiveEnterTimestampMonotonic) - $(prop "$p" ExecMainStartTimestampMonotonic)) / 1e6") s after its start (Type=notify: not active before READY=1)"
    else
        fail "boot $n: $UNIT is $(prop "$p" ActiveState) ($(prop "$p" SubState), result $(prop "$p" Result))"
        g "systemctl status --no-pager -n 30 $UNIT" || true
        return 1
    fi
    # The ticker pings at a fraction of WatchdogSec: wait for the next one.
    wd=$(prop "$p" WatchdogTimestampMonotonic)
    end=$(($(date +%s) + 40))
    while :; do
        sleep 2
        p2=$(g "systemctl show -p NRestarts,WatchdogTimestampMonotonic,ActiveState $UNIT")
        [ "$(prop "$p2" WatchdogTimestampMonotonic)" = "$wd" ] || break
        [ "$(date +%s)" -lt "$end" ] || break
    done
    if [ "$(prop "$p2" WatchdogTimestampMonotonic)" != "$wd" ] && [ "$wd" != 0 ] &&
        [ "$(prop "$p2" NRestarts)" = 0 ] && [ "$(prop "$p2" ActiveState)" = active ]; then
        ok "boot $n: watchdog fed (WatchdogSec $(prop "$p" WatchdogUSec); last WATCHDOG=1 moved from $(calc "$wd / 1e6") s to $(calc "$(prop "$p2" WatchdogTimestampMonotonic) / 1e6") s after boot), NRestarts=0"
    else
        fail "boot $n: watchdog: WatchdogTimestampMonotonic $wd then $(prop "$p2" WatchdogTimestampMonotonic), NRestarts $(prop "$p2" NRestarts), $(prop "$p2" ActiveState)"
    fi
}

# check_display BOOT WANT: the ticker's own line says KMSDRM and the renderer;
# WANT is accelerated (must be opengles2) or policy (the ticker chooses, and
# must say why if it is not the accelerated one). Also: it holds /dev/dri open.
check_display() {
    local n=$1 want=$2 line why fds
    line=$(journal | grep -m1 'display: .*video .*renderer' || true)
    RENDERER_LINE[$n]=$line
    why=$(journal | grep -m1 'display: OpenGL is' || true)
    if [ -z "$line" ]; then
        fail "boot $n: no 'display: ... video ..., renderer ...' line in the journal"
    elif ! echo "$line" | grep -qi 'video kmsdrm'; then
        fail "boot $n: not drawing through KMSDRM: $line"
    elif echo "$line" | grep -q 'renderer opengles2'; then
        ok "boot $n: KMSDRM with the accelerated renderer: $line"
    elif [ "$want" = policy ] && echo "$line" | grep -Eq 'renderer software .*\((software OpenGL|no GPU device in /dev/dri|display-only DRM devices|accelerated renderer failed)\)'; then
        ok "boot $n: KMSDRM; the software renderer, and the log says why: ${why:+$why / }$line"
    else
        fail "boot $n: KMSDRM but not the renderer wanted ($want): $line"
    fi
    fds=$(g "ls -l /proc/\$(systemctl show -p MainPID --value $UNIT)/fd | grep -o '/dev/dri/[a-zA-Z0-9]*' | sort -u | tr '\n' ' '" || true)
    fds=${fds% }
    if echo "$fds" | grep -q card; then
        ok "boot $n: the ticker holds $fds open"
    else
        fail "boot $n: the ticker has no /dev/dri/card* open ($fds)"
    fi
}

# check_libraries BOOT: every installed file the running ticker has mapped
# (libraries, dlopen()ed GL and DRI drivers, fonts) belongs to a package the
# .deb depends on, directly or through its dependencies. Mesa is in this
# image anyway; on a Pi it is only there if something pulls it in.
GUEST_MAPPED='pid=$(systemctl show -p MainPID --value kiosk-ticker)
{ apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances kiosk-ticker | grep -v "^ "
  dpkg-query -W -f="\${Package} \${Essential}\n" | awk "\$2 == \"yes\" { print \$1 }"; } | sort -u > /tmp/kt-closure
awk "\$6 ~ \"^/\" { print \$6 }" /proc/$pid/maps | sort -u > /tmp/kt-maps
# One dpkg -S for all (it reads its whole database each time); dpkg knows
# most libraries by their /lib names (merged /usr).
sed "s#^/usr/lib/#/lib/#" /tmp/kt-maps | cat /tmp/kt-maps - | sort -u | xargs dpkg -S 2>/dev/null | grep -v "^diversion" > /tmp/kt-owners
awk -F": " "NR == FNR { p = \$1; sub(/,.*/, \"\", p); sub(/:.*/, \"\", p); f = \$2; sub(\"^/usr/lib/\", \"/lib/\", f); own[f] = p; next }
            { f = \$0; sub(\"^/usr/lib/\", \"/lib/\", f); if (f in own) print own[f], \$0 }" /tmp/kt-owners /tmp/kt-maps > /tmp/kt-mapped
echo "$(wc -l < /tmp/kt-mapped) packaged files mapped" >&2
while read -r pkg f; do grep -qx "$pkg" /tmp/kt-closure || echo "$pkg ($f)"; done < /tmp/kt-mapped | sort -u'
check_libraries() {
    local n=$1 r
    r=$(g --timeout 300 "$GUEST_MAPPED" 2> "$RUN/mapped-$n.txt") ||
        { fail "boot $n: cannot list the ticker's mapped files: $(cat "$RUN/mapped-$n.txt")"; return; }
    if [ -z "$r" ]; then
        ok "boot $n: all $(grep -o '^[0-9]*' "$RUN/mapped-$n.txt") packaged files the ticker has mapped (libraries, dlopen()ed GL and DRI drivers, fonts) come from its Depends, recursively"
    else
        fail "boot $n: the ticker maps files of packages its .deb does not depend on: $(echo "$r" | tr '\n' ' ')"
    fi
}

# check_stop BOOT TEXT: systemctl stop takes at most a second (systemd's own
# timestamps) and the cache, with TEXT in it, is written during it.
check_stop() {
    local n=$1 text=$2 p t_exit t_in dt cache mtime began lines
    began=$(g --timeout 60 "date +%s.%N; systemctl stop $UNIT" | head -n 1)
    p=$(g "systemctl show -p ActiveState,ActiveExitTimestampMonotonic,InactiveEnterTimestampMonotonic $UNIT")
    t_exit=$(prop "$p" ActiveExitTimestampMonotonic) t_in=$(prop "$p" InactiveEnterTimestampMonotonic)
    dt=$(calc "($t_in - $t_exit) / 1e6")
    if [ "$(prop "$p" ActiveState)" = inactive ] && awk "BEGIN { exit !($dt >= 0 && $dt <= 1.0) }"; then
        ok "boot $n: systemctl stop: active -> inactive in $dt s (systemd's timestamps in the guest)"
    else
        fail "boot $n: systemctl stop: $(prop "$p" ActiveState) after $dt s"
    fi
    # Written during the stop: modified at or after the stop began.
    cache=$(g "f=/var/lib/kiosk-ticker/cache.tsv; [ -f \$f ] && echo \$(stat -c %.3Y \$f) \$(grep -c '$text' \$f)" || true)
    read -r mtime lines <<< "$cache"
    if [ -n "${mtime:-}" ] && [ -n "$began" ] && awk "BEGIN { exit !($mtime >= $began) }" && [ "${lines:-0}" -ge 1 ]; then
        ok "boot $n: cache /var/lib/kiosk-ticker/cache.tsv written during the stop (mtime $mtime, stop asked at $began, guest clock) with the network headline"
    else
        fail "boot $n: cache not written at the stop ($cache)"
    fi
    g "journalctl -b -u $UNIT --no-pager -o short-monotonic -n 6" | sed 's/^/    /'
}

# --- the test config ------------------------------------------------------------------
# One local feed file and one feed from the host; config order, so the strip
# is the same at every start; a tape shorter than the screen, so both
# headlines are always on it (and the motion is measured well within one
# loop of the tape).
test_config() { # test_config BACKGROUND
    cat <<CONF
# kiosk-ticker boot test (tools/boot-test.sh)
[ticker]
refresh = 30s
order = feeds
timeout = 5s

[feed local]
url = /etc/kiosk-ticker/boot-test-local.txt
label = Local

[feed net]
url = http://10.0.2.2:$PORT/net.xml
label = Net

[display]
mode = fullscreen
position = bottom
background = $1
foreground = #FFFFFF
label_color = #FFB000
font = DejaVu Sans:bold
font_size = 40
speed = $SPEED
direction = left
CONF
}

# --- boot 1: install, configure, enable, look, reload, stop -----------------------------
boot1() {
    local deb=$1 base t p line before info n f black=0 last
    base=$(basename "$deb")
    qemu_start 1
    timing "boot 1: qemu start -> agent" "$(printf '%.0f' "$BOOT_SECS")"
    say "boot 1: $(g 'systemctl is-system-running --wait' 2>&1 || true); $(g 'systemd-analyze time' 2>&1 | head -n 1)"
    g "systemctl --failed --no-legend --plain" | sed 's/^/    failed unit: /' || true
    g "systemd-analyze blame | head -n 5" | sed 's/^/    slowest at boot: /' || true
    if g "test -c /dev/dri/card0 && cat /sys/class/drm/card0-*/status" | grep -qx connected; then
        ok "boot 1: /dev/dri/card0 (driver $(g 'basename $(readlink /sys/class/drm/card0/device/virtio*/driver)')) with a connected connector"
    else
        fail "boot 1: no /dev/dri/card0 with a connected connector"
    fi

    # As on a Pi: the package, installed with apt from the file.
    $HELPER qga "$CTRL" put "$deb" "/root/$base" || die "cannot copy $base into the guest"
    t=$(date +%s)
    # The image has no package lists: whatever the package needs must be in
    # it already (from its Depends:), or this fails.
    if g --timeout 900 "cd /root && DEBIAN_FRONTEND=noninteractive apt install -y ./$base" > "$RUN/apt-install.log" 2>&1 &&
        grep -q '^0 upgraded, 1 newly installed' "$RUN/apt-install.log"; then
        ok "boot 1: apt install ./$base ($(($(date +%s) - t)) s; $(grep -m1 '^Creating user' "$RUN/apt-install.log" || echo 'no user created?'))"
    else
        fail "boot 1: apt install ./$base failed:"
        sed 's/^/    /' "$RUN/apt-install.log"
        return 1
    fi
    timing "boot 1: apt install" $(($(date +%s) - t))
    if g "getent passwd kiosk-ticker && id -nG kiosk-ticker && systemctl is-enabled $UNIT; true" > "$RUN/user.txt" 2>&1 &&
        grep -q '^kiosk-ticker:' "$RUN/user.txt"; then
        ok "boot 1: postinst made the user ($(head -n 1 "$RUN/user.txt" | cut -d: -f1,3,6)) and the unit is '$(tail -n 1 "$RUN/user.txt")'"
    else
        fail "boot 1: after the install: $(tr '\n' ' ' < "$RUN/user.txt")"
    fi

    # The test config, checked as the README says; the host's feed is up.
    test_config "$BG1" > "$RUN/ticker.conf"
    echo "Boot test local" > "$RUN/local.txt"
    $HELPER qga "$CTRL" put "$RUN/ticker.conf" /etc/kiosk-ticker/ticker.conf
    $HELPER qga "$CTRL" put "$RUN/local.txt" /etc/kiosk-ticker/boot-test-local.txt
    if line=$(g "kiosk-ticker -c /etc/kiosk-ticker/ticker.conf --check" 2>&1); then
        ok "boot 1: kiosk-ticker --check accepts the test config${line:+: $line}"
    else
        fail "boot 1: kiosk-ticker --check: $line"
    fi
    http_start "$FULL_BLOCKS" full-1

    t=$(date +%s)
    if g --timeout 300 "systemctl enable --now $UNIT" > "$RUN/enable.log" 2>&1; then
        ok "boot 1: systemctl enable --now $UNIT returned after $(($(date +%s) - t)) s"
    else
        fail "boot 1: systemctl enable --now $UNIT: $(cat "$RUN/enable.log")"
    fi
    check_unit 1
    check_display 1 policy
    check_libraries 1
    check_strip 1 "$BG1"
    check_motion 1 "$BG1"

    # The host's headline arrives (journal) and shows (screen).
    if wait_pattern 1 "$BG1" full_run 60; then
        ok "boot 1: the host feed's headline ($FULL_BLOCKS) is on screen: $(journal | grep -m1 'feed "net": [0-9]* headlines')"
        keep_png "$PATTERN_FILE" boot1-network-headline
    else
        fail "boot 1: the host feed's headline never showed: $PATTERN_INFO; $(journal | grep 'feed "net"' | tail -n 2 | tr '\n' ' ')"
    fi

    # Reload with another background, dumping the screen all along.
    test_config "$BG2" > "$RUN/ticker2.conf"
    $HELPER qga "$CTRL" put "$RUN/ticker2.conf" /etc/kiosk-ticker/ticker.conf
    rm -f "$RUN/reload.done"
    $HELPER dump "$QMP" "$RUN/dumps/reload" --interval 0.25 --until "$RUN/reload.done" > "$RUN/reload-dumps.txt" &
    local dumper=$!
    sleep 1
    g "systemctl reload $UNIT" || fail "boot 1: systemctl reload failed"
    wait_journal 'display: new settings applied' 60 > /dev/null || true
    sleep 2
    touch "$RUN/reload.done"
    wait "$dumper" || true
    n=0
    while read -r f _; do
        n=$((n + 1))
        info=$(screen "$f" "$BG2")
        awk "BEGIN { exit !($(jget "$info" nonblack) < 0.01) }" && black=$((black + 1))
        last=$f
    done < "$RUN/reload-dumps.txt"
    keep_png "$last" boot1-after-reload
    info=$(screen "$last" "$BG2")
    if [ "$n" -ge 4 ] && [ "$black" -eq 0 ] && awk "BEGIN { exit !($(jget "$info" bg_share) > 0.5) }"; then
        ok "boot 1: systemctl reload: background $BG1 -> $BG2 on screen, none of the $n dumps during it black ($(journal | grep -m1 'config reloaded'))"
    else
        fail "boot 1: reload: $black of $n dumps black, last: $info; $(journal | grep -E 'reload|settings' | tr '\n' ' ')"
    fi

    check_stop 1 "$FULL_BLOCKS"
    # Boot 2 draws through OpenGL ES 2 (a drop-in, as `systemctl edit` makes).
    g "mkdir -p /etc/systemd/system/$UNIT.d && printf '[Service]\nEnvironment=KT_RENDERER=accelerated\n' > /etc/systemd/system/$UNIT.d/boot-test.conf"
    http_stop
    qemu_stop 1
}

# --- boot 2: the service by itself, the feed server down, then back ---------------------
boot2() {
    local p ready f info t wait_s line
    qemu_start 2
    timing "boot 2: qemu start -> agent" "$(printf '%.0f' "$BOOT_SECS")"
    if wait_active 2 300; then
        p=$(g "systemctl show -p ActiveEnterTimestampMonotonic $UNIT")
        ready=$(calc "$(prop "$p" ActiveEnterTimestampMonotonic) / 1e6")
        say "boot 2: $(g 'systemd-analyze time' 2>&1 | head -n 1)"
        ok "boot 2: $UNIT came up by itself at boot: READY=1 ${ready} s after the kernel started"
        BOOT_TO_TICKER=$ready
    else
        fail "boot 2: $UNIT did not come up at boot"
        g "systemctl status --no-pager -n 40 $UNIT" | sed 's/^/    /' || true
        return 1
    fi
    # The first look, with the host's feed server down: the cached headline.
    f=$(dump cached)
    info=$(screen "$f" "$BG2")
    keep_png "$f" boot2-first-dump
    if [ "$(jget "$info" full_run)" -ge 150 ] && [ -z "$HTTP_PID" ]; then
        ok "boot 2: with the feed server down, the cached network headline ($FULL_BLOCKS) is in the first screen dump, taken as soon as the unit was seen active (READY=1 at ${ready} s, seen at ${SEEN_ACTIVE} s after boot)"
    else
        fail "boot 2: the cached network headline is not on screen at once (server down): $info"
    fi
    line=$(journal | grep 'feed "net"' | tail -n 1)
    say "boot 2: before the server starts: ${line:-no fetch of the network feed yet}"

    # The server comes back with a new headline: it must arrive, at the
    # fetcher's next retry (30 s +-20% after the failed first fetch). The
    # checks that do not read the strip run meanwhile; those that do wait
    # for the new headline, so it cannot change the strip between two dumps.
    http_start "$HALF_BLOCKS" half-2
    t=$(date +%s)
    check_display 2 accelerated
    check_unit 2
    check_libraries 2
    if wait_pattern 2 "$BG2" half_run 240; then
        wait_s=$(($(date +%s) - t))
        ok "boot 2: the server's new headline ($HALF_BLOCKS) on screen ${wait_s} s after it started: $(journal | grep 'feed "net": [0-9]* headlines' | tail -n 1)"
        keep_png "$PATTERN_FILE" boot2-new-headline
    else
        fail "boot 2: the new headline never arrived: $PATTERN_INFO; $(journal | grep 'feed "net"' | tail -n 3 | tr '\n' ' ')"
    fi
    check_strip 2 "$BG2"
    check_motion 2 "$BG2"
    check_stop 2 "$HALF_BLOCKS"

    # Rough speed of the emulated CPU, with the ticker stopped.
    CPU_EVENTS=$(g --timeout 120 "sysbench cpu --threads=1 --time=10 run" | sed -n 's/.*events per second: *//p')
    say "boot 2: sysbench cpu (1 thread, primes to 10000): ${CPU_EVENTS:-?} events/s"
    g "journalctl -b -u $UNIT --no-pager -o cat | grep -iE 'frames.*late|late.*worst'" > "$RUN/late.txt" 2>/dev/null || true
    http_stop
    qemu_stop 2
}

# --- main -----------------------------------------------------------------------------
main() {
    [ "$(id -u)" -eq 0 ] || exec sudo KT_BOOT_CACHE="$CACHE" KT_BOOT_OUT="$OUT" \
        KT_BOOT_REBUILD="${KT_BOOT_REBUILD:-0}" KT_BOOT_VERBOSE="${KT_BOOT_VERBOSE:-0}" bash "$0" "$@"
    local image_only=0
    if [ "${1:-}" = --image ]; then image_only=1; shift; fi
    local deb=${1:-} start t
    start=$(date +%s)
    if [ -z "$deb" ]; then
        deb=$(ls "$ROOT"/build-pkg/kiosk-ticker_*_arm64.deb "$ROOT"/build-arm64/kiosk-ticker_*_arm64.deb 2>/dev/null | head -n 1 || true)
    fi
    [ -n "$deb" ] && [ -f "$deb" ] || die "no arm64 package: run .ci/cross.sh or cmake --workflow --preset rpi-arm64 first"
    deb=$(realpath "$deb")
    say "package $deb"
    trap cleanup EXIT
    install_host_tools

    t=$(date +%s)
    image_get "$deb"
    timing "image ($([ $IMAGE_FRESH = 1 ] && echo "fresh build" || echo cached))" $(($(date +%s) - t))
    if [ $image_only = 1 ]; then printf '%b' "$timings"; return 0; fi

    RUN="$OUT/run"
    rm -rf "$RUN" "$OUT"/*.png
    mkdir -p "$RUN/dumps"
    qemu-img create -q -f qcow2 -F raw -b "$IMAGE_DIR/rootfs.img" "$RUN/disk.qcow2" ||
        die "qemu-img create failed"
    PORT=$(http_port)
    declare -gA FPS RENDERER_LINE
    BOOT_TO_TICKER="?" CPU_EVENTS=""

    t=$(date +%s)
    boot1 "$deb" || true
    timing "boot 1 (install, checks, reload, stop)" $(($(date +%s) - t))
    t=$(date +%s)
    if [ -n "$QEMU_PID" ]; then qemu_stop 1; fi
    boot2 || true
    timing "boot 2 (cache, checks, new feed, stop)" $(($(date +%s) - t))
    timing "whole boot test" $(($(date +%s) - start))
    # The overlay and the raw dumps are only weight now (PNGs are kept).
    rm -f "$RUN/disk.qcow2" "$RUN"/dumps/*.ppm

    echo
    say "summary"
    printf '%b' "$timings"
    echo "  boot to ticker (boot 2, kernel start -> READY=1): ${BOOT_TO_TICKER} s"
    echo "  renderer, boot 1 (as shipped):           ${RENDERER_LINE[1]:-?}"
    echo "  renderer, boot 2 (KT_RENDERER=accelerated): ${RENDERER_LINE[2]:-?}"
    echo "  frames seen: boot 1 ${FPS[1]:-?}; boot 2 ${FPS[2]:-?}"
    if [ -s "$RUN/late.txt" ]; then
        echo "  the ticker's late-frame summary:"; sed 's/^/    /' "$RUN/late.txt"
    else
        echo "  the ticker logged no late-frame summary (none in this version); frame rates above are from screen dumps"
    fi
    if [ -n "$CPU_EVENTS" ]; then
        # Published sysbench 1.0.20 figure (cpu, 1 thread): Pi 3B+ (Cortex-A53
        # at 1.4 GHz) 687 events/s; the Zero 2 W has the same core at 1 GHz.
        echo "  emulated CPU: sysbench cpu $CPU_EVENTS events/s on one core; a Pi Zero 2 W would do about 490 (687 on a 1.4 GHz Pi 3B+, scaled to 1 GHz): roughly $(calc "$CPU_EVENTS / 490")x a Zero 2 W core (rough: TCG on a shared host)"
    fi
    echo "  logs, journals and screen dumps: $RUN (PNG copies in $OUT)"
    say "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
main "$@"
