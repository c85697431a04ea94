#!/usr/bin/env bash
# CI: the whole-system boot test (tools/boot-test.sh, issue 15): an emulated
# arm64 board boots Debian 12, installs the arm64 .deb and runs the service
# on a KMS display. Uses the package .ci/cross.sh left in build-pkg/; run
# alone, it builds one with the README's preset first. The root file system
# is cached in /var/cache/kiosk-ticker-boot between runs. Prints how long
# the stage took.
#   bash .ci/boot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
deb=$(ls build-pkg/kiosk-ticker_*_arm64.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
    echo "+ sh tools/cross-setup.sh arm64 && cmake --workflow --preset rpi-arm64"
    sh tools/cross-setup.sh arm64
    cmake --workflow --preset rpi-arm64
    deb=$(ls build-arm64/kiosk-ticker_*_arm64.deb | head -n 1)
fi
rc=0
echo "+ bash tools/boot-test.sh $deb"
bash tools/boot-test.sh "$deb" || rc=$?
echo "boot: stage took $(($(date +%s) - start))s (exit $rc)"
exit $rc
