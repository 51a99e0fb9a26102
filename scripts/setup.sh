#!/usr/bin/env bash
# Installs what webgrad needs on a fresh Debian machine, then the npm packages:
#   chromium-common + libvulkan1   SwiftShader, so Dawn gets a WebGPU adapter without a GPU
#   chromium                       the browser the browser tests drive (playwright-core)
#   dataset-fashion-mnist          the trainer's data, /usr/share/datasets/fashion-mnist
#   fortunes                       the GPT's text corpus, /usr/share/games/fortunes
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in chromium-common libvulkan1 chromium dataset-fashion-mnist fortunes; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
