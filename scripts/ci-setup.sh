#!/usr/bin/env bash
# Installs what .ci/run needs beyond a stable Rust toolchain, on a Debian machine:
# - the cross targets' Rust standard libraries (x86_64-apple-darwin, x86_64-pc-windows-gnu,
#   aarch64-unknown-linux-gnu), for stable and for beta and nightly where installed;
# - qemu-user, gcc-aarch64-linux-gnu (linker) and libc6-dev-arm64-cross (the aarch64 C library
#   the linker needs) for the aarch64 suite;
# - wine64 and gcc-mingw-w64-x86-64 (linker, and the compiler of .ci/wine/bcryptprimitives.c)
#   for the Windows suite; then it makes the wine prefix, so that the first test run does not
#   pay for it.
# Safe to run again: packages already there are not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(x86_64-apple-darwin x86_64-pc-windows-gnu aarch64-unknown-linux-gnu)

# Debian packages, by the command each one provides.
declare -A PACKAGES=(
    [qemu-aarch64]=qemu-user
    [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
    [wine]="wine wine64"
    [x86_64-w64-mingw32-gcc]=gcc-mingw-w64-x86-64
)
# Debian packages, by a file each one provides: the aarch64 C library's startup files and
# headers, which the linker needs for test binaries. gcc-aarch64-linux-gnu only recommends
# them, and recommendations are not installed below (a machine that had them from elsewhere
# hid this; on a fresh one the aarch64 suite failed to link: "cannot find Scrt1.o").
declare -A FILE_PACKAGES=(
    [/usr/aarch64-linux-gnu/lib/Scrt1.o]=libc6-dev-arm64-cross
)
missing=()
for command in "${!PACKAGES[@]}"; do
    command -v "$command" >/dev/null || missing+=(${PACKAGES[$command]})
done
for file in "${!FILE_PACKAGES[@]}"; do
    [ -e "$file" ] || missing+=(${FILE_PACKAGES[$file]})
done
if ((${#missing[@]})); then
    sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "ci-setup: installing ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
fi

toolchains=(stable)
for extra in beta nightly; do
    rustup toolchain list | grep -q "^$extra-" && toolchains+=("$extra")
done
for toolchain in "${toolchains[@]}"; do
    echo "ci-setup: rust targets for $toolchain"
    rustup "+$toolchain" target add "${TARGETS[@]}"
    rustup "+$toolchain" component add clippy rustfmt >/dev/null 2>&1 || true
done

# The wine prefix and the stand-in DLL (the runner makes both on first use; making them here
# keeps that out of the tests' time).
echo "ci-setup: wine prefix"
.ci/runner-wine wineboot --init
echo "ci-setup: done"
