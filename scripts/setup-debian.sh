#!/bin/sh
# Installs what building and testing taskmap needs on Debian 12 (or Ubuntu): cmake, g++,
# make, libfmt-dev, catch2, libasio-dev (for taskmap/asio.hpp's tests and example),
# libxxhash-dev, libsqlite3-dev and nlohmann-json3-dev (for the stores and the JSON codec), plus any
# package names given as arguments, e.g.
#   ./scripts/setup-debian.sh clang clang-format
# Installs only what is missing (apt-get update only then), as root or through sudo.
# Prints nothing when everything is installed already.
set -eu

packages="cmake g++ make libfmt-dev catch2 libasio-dev libxxhash-dev libsqlite3-dev nlohmann-json3-dev $*"

missing=""
for package in $packages; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  case "$status" in
    *" ok installed") ;;
    *) missing="$missing $package" ;;
  esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "setup-debian.sh: need root or sudo to install:$missing" >&2
  exit 1
fi

echo "setup-debian.sh: installing$missing"
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086  # $missing is a list of package names, split on purpose
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Use-Pty=0 $missing >/dev/null
echo "setup-debian.sh: done"
