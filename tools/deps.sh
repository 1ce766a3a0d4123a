#!/bin/sh
# Install the Debian packages memtrack needs to build and test: only the
# missing ones, so a machine that has them all is not slowed down.
set -eu

PACKAGES="make gcc binutils clang llvm pkg-config libbpf-dev libelf-dev libdw-dev zlib1g-dev
bpftool systemtap-sdt-dev bpftrace libcmocka-dev libjson-c-dev libcapstone-dev libclang-rt-14-dev
protobuf-c-compiler libprotobuf-c-dev protobuf-compiler libxml2-utils libcairo2-dev
libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 g++ valgrind
python3 perl git gzip gdb debuginfod xz-utils libpython3.11-testsuite jq golang-go"

missing=""
for pkg in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: these Debian packages are missing:$missing" >&2
	echo "deps: run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; update only when an install needs it.
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
fi
