#!/usr/bin/env bash
# Debian's Chromium for the browser test (Playwright drives it via executable_path; its own browser
# download cannot work offline). Skipped, with a note, where apt is not available or we are not root.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "note: /usr/bin/chromium is missing and cannot be installed here (need root + apt-get);" \
       "the browser test will be skipped. Install the Debian package 'chromium' to run it." >&2
  exit 0
fi
echo "installing Debian chromium for the browser test"
DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
