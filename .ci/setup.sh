# SPDX-License-Identifier: Apache-2.0
# Sourced by ./run and ./test: installs the Debian packages osq needs (when root and something
# is missing), then configures and builds a Meson build directory. Quiet unless it fails.

OSQ_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OSQ_PACKAGES=(
	meson ninja-build pkg-config gcc
	libglib2.0-dev libsqlite3-dev libjson-glib-dev libedit-dev libcmocka-dev
	python3 python3-pytest
	thrift-compiler libthrift-c-glib-dev python3-thrift python3-setuptools python3-pip python3-venv
	protobuf-c-compiler libprotobuf-c-dev
	clang-format valgrind procps iproute2 bc
)

osq_missing_packages() {
	local p
	for p in "${OSQ_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			echo "$p"
	done
}

osq_install_packages() {
	local missing
	missing=$(osq_missing_packages)
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "osq: missing Debian packages:" $missing >&2
		echo "osq: run as root, or: sudo apt-get install" $missing >&2
		return 1
	fi
	echo "osq: installing" $missing >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null &&
		apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
		echo "osq: apt-get install failed" >&2
		return 1
	}
}

# osq_build DIR [meson options...]
osq_build() {
	local dir=$1 log
	shift
	log=$(mktemp)
	if [ ! -f "$OSQ_TOP/$dir/build.ninja" ]; then
		meson setup "$OSQ_TOP/$dir" "$OSQ_TOP" "$@" >"$log" 2>&1 || {
			cat "$log" >&2
			rm -f "$log"
			return 1
		}
	fi
	meson compile -C "$OSQ_TOP/$dir" >"$log" 2>&1 || {
		# a new family file or spec needs a reconfigure; try once before giving up
		meson setup --reconfigure "$OSQ_TOP/$dir" "$OSQ_TOP" "$@" >>"$log" 2>&1 &&
			meson compile -C "$OSQ_TOP/$dir" >>"$log" 2>&1
	} || {
		cat "$log" >&2
		rm -f "$log"
		return 1
	}
	rm -f "$log"
}
