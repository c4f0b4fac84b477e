#!/bin/sh
# Installs what the viewer's render tests need on a Debian machine with no
# GPU: an X server in memory (Xvfb, with xvfb-run) and Mesa's software
# Vulkan driver (lavapipe). Does nothing when they are already there.
set -eu
need=""
command -v xvfb-run >/dev/null 2>&1 || need="$need xvfb xauth"
ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || need="$need mesa-vulkan-drivers"
ls /usr/lib/*/libvulkan.so.1 >/dev/null 2>&1 || need="$need libvulkan1"
if [ -z "$need" ]; then
    echo "render dependencies present"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing:$need (install them with your system's package manager)" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "installing:$need"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
