#!/bin/sh
# Installs what cross-building kiosk-ticker for Raspberry Pi boards needs on a
# Debian 12 PC: the cross compilers, qemu-user (to run the ARM test binaries)
# and the ARM builds of the libraries.
#
#   sh tools/cross-setup.sh                 # arm64 (multiarch) and armhf (sysroot)
#   sh tools/cross-setup.sh arm64           # only one of them
#   sh tools/cross-setup.sh --sysroot arm64 # arm64 as a sysroot too (no multiarch)
#   sh tools/cross-setup.sh --print-sources # the apt sources sysroots are made from
#
# arm64 uses Debian multiarch: `dpkg --add-architecture arm64` and the :arm64
# -dev packages, installed beside the native ones. armhf uses a sysroot made
# with `mmdebstrap --variant=extract` in $KT_CROSS_CACHE/armhf, because adding
# armhf to dpkg makes every later `apt-get update` depend on the mirror's armhf
# index, which is not always there (it failed on our machines). The toolchain
# files in toolchain/ find both without options.
#
# Idempotent: a second run checks and returns in a few seconds. Re-runs itself
# with sudo when not run as root.
set -eu

KT_CROSS_CACHE=${KT_CROSS_CACHE:-/var/cache/kiosk-ticker-cross}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export DEBIAN_FRONTEND=noninteractive

say() { echo "cross-setup: $*" >&2; }
die() { say "error: $*"; exit 1; }

sysroot_arches=""
multiarch_arches=""
want_sysroot=0
print_sources=0
for a in "$@"; do
    case $a in
        --sysroot) want_sysroot=1 ;;
        arm64 | armhf)
            if [ "$a" = armhf ] || [ $want_sysroot = 1 ]; then
                sysroot_arches="$sysroot_arches $a"
            else
                multiarch_arches="$multiarch_arches $a"
            fi ;;
        --print-sources) print_sources=1 ;;
        -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
        *) die "unknown argument '$a' (expected arm64, armhf or --sysroot)" ;;
    esac
done
if [ -z "$sysroot_arches$multiarch_arches" ]; then
    multiarch_arches=" arm64"
    sysroot_arches=" armhf"
    [ $want_sysroot = 0 ] || { sysroot_arches=" arm64 armhf"; multiarch_arches=""; }
fi

# The target libraries are the ones the native build uses: read them from
# tools/install-deps.sh so the two lists cannot drift apart.
LIBS=$(sed -n '/^BUILD="/,/"$/p' "$ROOT/tools/install-deps.sh" | tr ' "' '\n\n' |
       grep -E '^lib[a-z0-9.+-]+-dev$' | sort -u | tr '\n' ' ')
[ -n "$LIBS" ] || die "no lib*-dev packages found in BUILD= of tools/install-deps.sh"

# --- apt sources for sysroots ------------------------------------------------
# Which apt sources the sysroot uses: $KT_CROSS_MIRROR (the path of a
# sources.list file) or else the host's own Debian archive entries (release
# and -updates), so the sysroot comes from the same mirror and release as the
# native packages. The -security suite is left out on purpose: its armhf index
# on our mirror is out of step with its Release file, which fails the whole
# update; the sysroot is only linked against, so the security fixes of the
# Pi's own libraries do not matter here.
write_sources() {
    if [ -n "${KT_CROSS_MIRROR:-}" ]; then
        cat "$KT_CROSS_MIRROR"
        return
    fi
    apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(LABEL)' \
        'Created-By: Packages' "Architecture: $(dpkg --print-architecture)" |
        awk '$4 == "Debian" { print "deb " $1 " " $2 " " $3 }' | sort -u
}
SUITE=${KT_CROSS_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
if [ $print_sources = 1 ]; then
    # For .ci/cross.sh's package install test: the same mirror, no -security.
    write_sources
    exit 0
fi
# Everything below installs packages or writes the root-owned sysroots.
if [ "$(id -u)" -ne 0 ]; then
    exec sudo KT_CROSS_CACHE="$KT_CROSS_CACHE" KT_CROSS_MIRROR="${KT_CROSS_MIRROR:-}" \
        KT_CROSS_SUITE="${KT_CROSS_SUITE:-}" sh "$0" "$@"
fi

triplet() { case $1 in arm64) echo aarch64-linux-gnu ;; armhf) echo arm-linux-gnueabihf ;; esac; }

missing_pkgs() { # prints the packages of "$@" that are not installed
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" || printf '%s ' "$p"
    done
}

updated=0
apt_install() {
    # shellcheck disable=SC2046
    set -- $(missing_pkgs "$@")
    [ $# -gt 0 ] || return 0
    if [ $updated = 0 ]; then apt-get update -q >&2; updated=1; fi
    say "installing $*"
    apt-get install -y -q --no-install-recommends "$@" >&2
}

# Host tools: C cross compilers only (the project is C; crossbuild-essential
# would add g++ and dpkg-cross for nothing), qemu-user to run ARM programs
# (binfmt_misc is not needed: CMake's emulator setting calls qemu directly),
# file/binutils/dpkg-dev for the ELF and package checks.
host_pkgs="qemu-user file binutils dpkg-dev pkg-config cmake"
for a in $multiarch_arches $sysroot_arches; do
    host_pkgs="$host_pkgs gcc-$(triplet "$a")"
done
# mmdebstrap: the sysroots, and the package install test of .ci/cross.sh.
host_pkgs="$host_pkgs mmdebstrap"
# shellcheck disable=SC2086
apt_install $host_pkgs

# --- arm64 (or any arch) through Debian multiarch --------------------------
for a in $multiarch_arches; do
    if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
        say "adding dpkg architecture $a"
        dpkg --add-architecture "$a"
        if ! apt-get update -q >&2; then
            # Leave the machine as we found it: a foreign architecture whose
            # index cannot be fetched breaks apt-get update for everything.
            dpkg --remove-architecture "$a" || true
            apt-get update -q >&2 || true
            die "the mirror has no usable $a index; use: sh tools/cross-setup.sh --sysroot $a"
        fi
        updated=1
    fi
    pkgs=""
    for l in $LIBS; do pkgs="$pkgs $l:$a"; done
    # shellcheck disable=SC2086
    apt_install $pkgs
    say "$a: multiarch libraries installed in /usr/lib/$(triplet "$a")"
done

# --- sysroots made with mmdebstrap ------------------------------------------
# Writes SYSROOT/DEBIAN/shlibs and SYSROOT/DEBIAN/symbols from the control
# data of the .deb files that were extracted into it. dpkg-shlibdeps treats a
# directory with DEBIAN/ as a package tree and reads these files, so the
# packages built against the sysroot get exact Depends: (see
# cmake/Install.cmake). A sysroot has no dpkg database of its own.
index_debs() {
    root=$1
    tmp=$(mktemp -d)
    mkdir -p "$root/DEBIAN"
    : > "$root/DEBIAN/shlibs.new"
    : > "$root/DEBIAN/symbols.new"
    : > "$root/DEBIAN/packages.new"
    for deb in "$root"/var/cache/apt/archives/*.deb; do
        [ -e "$deb" ] || die "no downloaded packages left in $root/var/cache/apt/archives"
        rm -rf "$tmp/c"
        dpkg-deb -e "$deb" "$tmp/c"
        [ ! -f "$tmp/c/shlibs" ] || cat "$tmp/c/shlibs" >> "$root/DEBIAN/shlibs.new"
        [ ! -f "$tmp/c/symbols" ] || cat "$tmp/c/symbols" >> "$root/DEBIAN/symbols.new"
        dpkg-deb -f "$deb" Package Version | tr '\n' ' ' >> "$root/DEBIAN/packages.new"
        echo >> "$root/DEBIAN/packages.new"
    done
    rm -rf "$tmp"
    for f in shlibs symbols packages; do mv "$root/DEBIAN/$f.new" "$root/DEBIAN/$f"; done
}

for a in $sysroot_arches; do
    dir="$KT_CROSS_CACHE/$a"
    # The stamp records what the sysroot was made from: a change of the
    # package list or of the sources rebuilds it, nothing else does.
    sources=$(write_sources)
    if [ -z "$sources" ] && [ $updated = 0 ]; then
        # No package lists yet (a fresh or cleaned machine): fetch them once.
        apt-get update -q >&2
        updated=1
        sources=$(write_sources)
    fi
    [ -n "$sources" ] || die "no Debian apt sources found on this host; set KT_CROSS_MIRROR"
    stamp="$(echo "$SUITE $LIBS libc6-dev"; echo "$sources")"
    if [ -f "$dir/.kt-stamp" ] && [ "$(cat "$dir/.kt-stamp")" = "$stamp" ]; then
        say "$a: sysroot $dir is up to date"
        continue
    fi
    say "$a: building sysroot $dir (mmdebstrap --variant=extract)"
    mkdir -p "$KT_CROSS_CACHE"
    new="$dir.new.$$"
    rm -rf "$dir".new.*        # left by an interrupted run
    incl=$(echo "libc6-dev $LIBS" | tr -s ' ' ',' | sed 's/^,//; s/,$//')
    echo "$sources" | tee "$KT_CROSS_CACHE/$a.sources.list" > /dev/null
    mmdebstrap --quiet --variant=extract --arch="$a" --include="$incl" \
        --skip=cleanup/apt/cache --format=directory \
        "$SUITE" "$new" "$KT_CROSS_CACHE/$a.sources.list" >&2 ||
        die "mmdebstrap failed for $a (see above); the previous sysroot, if any, is untouched"
    index_debs "$new"
    # Under qemu the ARM programs see the sysroot first (qemu -L). Without
    # these, fontconfig there would see only the sysroot's few fonts and the
    # tests would render differently from the native ones: drop them so the
    # host's font configuration and fonts are used, as on the native build.
    # The apt cache and docs are only weight.
    rm -rf "$new/etc/fonts" "$new/usr/share/fonts" "$new/var/cache/fontconfig" \
        "$new/var/cache/apt/archives" "$new/usr/share/doc" "$new/usr/share/man" \
        "$new/usr/share/locale"
    # Absolute symlinks would point into the host: make them relative.
    find "$new" -type l -lname '/*' | while read -r l; do
        t=$(readlink "$l")
        ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$new$t")" "$l"
    done
    echo "$stamp" | tee "$new/.kt-stamp" > /dev/null
    rm -rf "$dir"
    mv "$new" "$dir"
    say "$a: sysroot ready ($(du -sh "$dir" | cut -f1))"
done

for a in $multiarch_arches $sysroot_arches; do
    command -v "$(triplet "$a")-gcc" > /dev/null || die "$(triplet "$a")-gcc missing after setup"
done
if ! command -v qemu-aarch64 > /dev/null || ! command -v qemu-arm > /dev/null; then
    die "qemu-user is missing after setup"
fi
say "done:${multiarch_arches:+ multiarch$multiarch_arches}${sysroot_arches:+ sysroot$sysroot_arches}"
