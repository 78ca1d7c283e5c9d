#!/usr/bin/env bash
# bootstrap.sh — make this machine ready to run kemu: Debian tools, npm packages, a fresh build.
# Idempotent and quiet when nothing is missing; `npm start`, `npm test` and `npm run bench` call it.
set -euo pipefail
cd "$(dirname "$0")/.."

# The kernel-facing tools kemu drives (src/sys) and the ones users run inside Pods and nodes.
DEBIAN_PACKAGES=(
  iproute2 iptables nftables conntrack bind9-dnsutils curl iputils-ping tcpdump ipset ipvsadm iperf3
  containernetworking-plugins procps psmisc util-linux
  dnsperf knot  # bench/dns.ts: load generator and the C server it compares against
  wrk nginx  # bench/ingress.ts: load generator and the reverse proxy it compares against (run on its own conf)
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# npm packages: reinstall only when the lock file changed since the last install.
stamp=node_modules/.kemu-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi

# Build when any source is newer than the last build.
if [ ! -f dist/.built ] || [ -n "$(find src tsconfig.json package.json -newer dist/.built -print -quit)" ]; then
  echo "bootstrap: building" >&2
  npx tsc -p tsconfig.json >&2
  touch dist/.built
fi
