#!/bin/sh
# Lets `cargo build --features cuda` build on a machine that reaches only
# the package registries. burn's CUDA backend compiles kernels through
# cubecl's LLVM (NVPTX), whose build script (tracel-llvm-bundler
# 23.1.0-4) downloads an LLVM 23 bundle from GitHub unless its folder,
# ~/.local/share/tracel/tracel-llvm-23.1.0-4, holds an llvm-config and the
# `.tracel-llvm-installed` sentinel. This puts Debian's LLVM 22 there
# (llvm-22-dev with the NVPTX target, and libpolly-22-dev, which its
# llvm-config lists) behind a wrapper that writes full library paths as -l
# flags (the bundler turns `/usr/lib/.../libz3.so` into `-llibz3`).
#
# Caveat: the bindings (llvm-sys 231) are LLVM 23's C API and link against
# LLVM 22 here. Every function cubecl uses links, but a signature that
# changed between the two would not show until kernels are compiled on a
# GPU machine; run the GPU benchmark (scripts/gpu-bench.sh ... cuda) there
# before trusting it.
set -eu
dir="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-23.1.0-4"
if [ ! -x /usr/lib/llvm-22/bin/llvm-config ] || [ ! -e /usr/lib/llvm-22/lib/libPolly.a ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        llvm-22-dev libpolly-22-dev >/dev/null
fi
mkdir -p "$dir/bin"
cat > "$dir/bin/llvm-config" <<'WRAP'
#!/bin/sh
# Debian's LLVM 22 in tracel-llvm-bundler's layout (tactile's
# scripts/setup-cuda-llvm.sh): full library paths become -l flags.
/usr/lib/llvm-22/bin/llvm-config "$@" | sed -E 's#(^| )/[^ ]*/lib([A-Za-z0-9_+-]+)\.(so|a)[^ ]*#\1-l\2#g'
WRAP
chmod +x "$dir/bin/llvm-config"
touch "$dir/.tracel-llvm-installed"
echo "LLVM $("$dir/bin/llvm-config" --version) set up for cubecl in $dir"
