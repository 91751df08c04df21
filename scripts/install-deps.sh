#!/usr/bin/env bash
# Installs the Debian 12 packages Persona Studio needs, and only those that
# are missing, so running it again is quick and changes nothing.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh test     also what the test suite needs (PostgreSQL server, cmocka,
#                                    Chromium and Node.js for the dashboard's browser test
#                                    and the S3-protocol server of the media store's test,
#                                    faketime for the clock check, nginx-light for the
#                                    deployment test)
set -euo pipefail

# libespeak-ng-dev: offline narration (its C API; espeak-ng-data comes with it).
# libopusenc-dev: encodes narration as Opus in Ogg, in process (decision 133).
# ffmpeg: renders the video, fits model images, decodes compressed narrator
# answers (and its ffprobe checks files in the tests).
# libcairo2-dev, libpango1.0-dev: the offline scene card (decision 98; libpng-dev
# encodes it, decision 109), with
# its fonts: DejaVu and Noto for Latin (Portuguese accents included) and
# Noto Color Emoji, which fontconfig falls back to for emoji.
# libexpat1-dev: the XML answers of the S3 media store (decision 125).
build_pkgs=(gcc make cmake pkg-config libc6-dev
            libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libsodium-dev
            libcurl4-openssl-dev libexpat1-dev libespeak-ng-dev libopusenc-dev ffmpeg libpng-dev
            libcairo2-dev libpango1.0-dev fonts-dejavu-core fonts-noto-core fonts-noto-color-emoji)
test_pkgs=(libcmocka-dev postgresql curl chromium faketime nginx-light)

want=("${build_pkgs[@]}")
[ "${1:-}" = "test" ] && want+=("${test_pkgs[@]}")

missing=()
# Node.js (20 or later, for playwright-core) with npm: any install will do,
# Debian's or another vendor's package, so look for the commands.
if [ "${1:-}" = "test" ] && ! { command -v node && command -v npm; } >/dev/null; then
  missing+=(nodejs npm)
fi

for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The postgresql package would start a system cluster on port 5432; the tests
# make their own throwaway cluster, so stop the service from starting here.
if printf '%s\n' "${missing[@]}" | grep -qx postgresql && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
