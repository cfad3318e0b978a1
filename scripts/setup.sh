#!/usr/bin/env bash
# Set up btweb on Debian/Ubuntu: system packages, Node dependencies, the native webview
# library, the build. Safe to run again. Uses sudo for apt when not run as root.
#   scripts/setup.sh            set up (add --no-apt to skip system packages)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT=1
for arg in "$@"; do [ "$arg" = "--no-apt" ] && APT=0; done

if [ "$APT" = 1 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # WebKitGTK: webview-nodejs 0.4.3 links webkit2gtk-4.0; where only 4.1 exists (Ubuntu 24.04+,
  # Debian 13) a pkg-config shim below maps 4.0 to 4.1.
  WEBKIT=libwebkit2gtk-4.0-dev
  apt-cache show "$WEBKIT" >/dev/null 2>&1 || WEBKIT=libwebkit2gtk-4.1-dev
  PKGS=(
    "$WEBKIT" cmake g++ make pkg-config python3 git          # the webview's native library
    python3-libtorrent libtorrent-rasterbar-dev               # the independent implementation for interop tests/benches
    xvfb xauth x11-apps x11-utils imagemagick tesseract-ocr libxtst-dev # window tests: display, screenshots, OCR, X input
    xdg-utils desktop-file-utils                              # btpk: link handler registration
    wrk                                                       # benchmarks: the HTTP load generator of `bench load`
  )
  command -v node >/dev/null || PKGS+=(nodejs npm)
  $SUDO apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
fi

NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" -lt 20 ]; then
  echo "btweb needs Node.js 20 or newer; this machine has $(node --version)." >&2
  exit 1
fi

# The shim: a webkit2gtk-4.0.pc that requires 4.1, used only while building the webview library.
SHIM=""
if ! pkg-config --exists webkit2gtk-4.0 2>/dev/null && pkg-config --exists webkit2gtk-4.1 2>/dev/null; then
  SHIM=$(mktemp -d)
  printf 'Name: webkit2gtk-4.0\nDescription: shim to 4.1\nVersion: 2.0\nRequires: webkit2gtk-4.1\n' > "$SHIM/webkit2gtk-4.0.pc"
  export PKG_CONFIG_PATH="$SHIM${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
fi

npm ci --no-audit --no-fund --loglevel=error

# Security: the webview.h bundled with libwebview-nodejs lets page JavaScript read the clipboard
# (document.execCommand('paste') with no user action). btweb shows untrusted pages, so turn it off
# and build the library ourselves (npm may also have held back its install script). The user's own
# Ctrl+C / Ctrl+V do not depend on this setting.
WEBVIEW_H=node_modules/libwebview-nodejs/src/webview.h
LIB=node_modules/libwebview-nodejs/build/Release/libwebview.node
if grep -q 'javascript_can_access_clipboard(settings, true)' "$WEBVIEW_H" || [ ! -f "$LIB" ]; then
  sed -i 's/javascript_can_access_clipboard(settings, true)/javascript_can_access_clipboard(settings, false)/' "$WEBVIEW_H"
  (cd node_modules/libwebview-nodejs && ../.bin/cmake-js rebuild >/dev/null)
fi
grep -q 'javascript_can_access_clipboard(settings, false)' "$WEBVIEW_H" || { echo "setup: could not patch $WEBVIEW_H" >&2; exit 1; }
[ -n "$SHIM" ] && rm -rf "$SHIM"

npm run build --silent
echo "btweb is set up. Try: node dist/cli.js demo"
