#!/usr/bin/env bash
# Consumer test: ospp used from outside its tree, both ways a user would.
#  1. installed: meson install into a temporary prefix, then a plain compiler command that finds
#     ospp through pkg-config only;
#  2. as a meson subproject: dependency('ospp') in another project.
# usage: test/consumer/run.sh [CXX]   (prints "consumer: N passed, N failed" as its last line)
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
cxx=${1:-${CXX:-c++}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
step() {  # step NAME COMMAND...
    local name=$1; shift
    if "$@" >"$work/log" 2>&1; then
        passed=$((passed + 1)); echo "consumer: $name ok"
    else
        failed=$((failed + 1)); echo "consumer: $name FAILED"; tail -n 30 "$work/log"
    fi
}

installed() {
    CXX=$cxx meson setup "$work/build" "$src" --prefix="$work/prefix" --libdir=lib \
        -Dtests=disabled -Dtools=disabled -Dexamples=disabled -Dbenchmarks=disabled &&
    meson install -C "$work/build" &&
    export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" &&
    # shellcheck disable=SC2046
    $cxx "$src/test/consumer/main.cpp" -o "$work/app" $(pkg-config --cflags --libs ospp) &&
    LD_LIBRARY_PATH="$work/prefix/lib" "$work/app"
}

subproject() {
    mkdir -p "$work/sub/subprojects" &&
    cp "$src/test/consumer/meson.build" "$src/test/consumer/main.cpp" "$work/sub/" &&
    ln -s "$src" "$work/sub/subprojects/ospp" &&
    CXX=$cxx meson setup "$work/sub/build" "$work/sub" -Dospp:tests=disabled -Dospp:tools=disabled \
        -Dospp:examples=disabled &&
    meson test -C "$work/sub/build"
}

step "installed, found by pkg-config" installed
step "meson subproject" subproject
echo "consumer: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
