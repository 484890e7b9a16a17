#!/usr/bin/env bash
# Switchboard's test command (`npm test`). On a fresh Debian machine it installs what
# the tests need, builds, and runs every test inside a private network namespace:
#
#   1. apt: chromium, coturn, iproute2, nftables, ffmpeg (MCU codecs, ffprobe), janus (MCU/SFU comparisons)
#      (only if one is missing; needs root)
#   2. npm ci
#   3. npm run build
#   4. node scripts/run-tests.mjs [ARGS...] inside `unshare -n` with lo up (only loopback exists there),
#      or directly with a notice when that is not possible (not root, no unshare).
#
# Arguments are passed to scripts/run-tests.mjs (files/dirs to narrow, --test-name-pattern=...).
# Env: SWITCHBOARD_TEST_SKIP_INSTALL=1 skips steps 1-2 (developer convenience);
#      SWITCHBOARD_TEST_NO_NETNS=1 runs the tests without a private network namespace.
# The last line printed is "N passed, N failed[, N skipped]"; the exit status is non-zero if any test failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '==> %s\n' "$*"; }

need_apt() {
  [ -x /usr/bin/chromium ] || return 0
  command -v turnutils_uclient >/dev/null 2>&1 || return 0
  command -v turnserver >/dev/null 2>&1 || return 0
  command -v ip >/dev/null 2>&1 || return 0
  command -v nft >/dev/null 2>&1 || return 0
  command -v ffmpeg >/dev/null 2>&1 || return 0
  command -v ffprobe >/dev/null 2>&1 || return 0
  [ -x /usr/bin/janus ] || return 0
  return 1
}

if [ "${SWITCHBOARD_TEST_SKIP_INSTALL:-}" != 1 ]; then
  if need_apt; then
    if [ "$(id -u)" != 0 ]; then
      echo "scripts/test.sh: chromium, coturn (turnutils_uclient), iproute2, nftables, ffmpeg or janus is missing and this is not root." >&2
      echo "Install them first: sudo apt-get update && sudo apt-get install -y chromium coturn iproute2 nftables ffmpeg janus" >&2
      exit 1
    fi
    log "apt-get install chromium coturn iproute2 nftables ffmpeg janus"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium coturn iproute2 nftables ffmpeg janus
  else
    log "chromium, coturn, iproute2, nftables, ffmpeg and janus already installed"
  fi

  log "npm ci"
  npm ci
fi

log "npm run build"
npm run build

# Run the tests in a fresh network namespace when we can: nothing can leave the machine,
# and nothing outside (e.g. a system coturn on 3478) can interfere.
if [ "${SWITCHBOARD_TEST_NO_NETNS:-}" != 1 ] && [ "$(id -u)" = 0 ] \
  && command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 \
  && unshare -n -- ip link set lo up >/dev/null 2>&1; then
  log "running tests in a private network namespace (unshare -n, loopback only)"
  exec unshare -n -- bash -c 'ip link set lo up && exec node scripts/run-tests.mjs "$@"' run-tests "$@"
fi

echo "notice: not running in a private network namespace (needs root and a working 'unshare -n'); running tests directly on this host's loopback" >&2
exec node scripts/run-tests.mjs "$@"
