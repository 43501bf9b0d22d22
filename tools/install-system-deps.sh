#!/usr/bin/env bash
# System packages for the optional headless-gl addon (npm "gl", pulled in by gpu.js): its
# prebuilt binary is downloaded from GitHub, which CI cannot reach, so `npm ci` builds it from
# source (node-gyp; needs the X11/GL headers below) and it renders through GLX on Mesa, which
# needs an X display: Xvfb provides one (the gpujs tests start a private Xvfb when DISPLAY is
# unset). Without these packages `npm ci` still succeeds (gl is optional) and the gpujs backend
# runs in webasm/cpu mode only. Idempotent: installs only what is missing. Debian/Ubuntu, as root.
set -euo pipefail

PKGS=(
  build-essential pkg-config python3     # node-gyp toolchain
  libx11-dev libxi-dev libxext-dev       # headless-gl build: X11 headers
  libglu1-mesa-dev libglew-dev mesa-common-dev
  libgl1-mesa-dri                        # Mesa llvmpipe (software GL) at run time
  xvfb xauth                             # X display for headless-gl on a machine without one
  chromium                               # headless browser for the profile-report test (playwright-core)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system-deps: all ${#PKGS[@]} packages already installed"
  exit 0
fi

echo "install-system-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
