#!/usr/bin/env bash
# Debian's Chromium for tests/test_browser.py, installed only when it is missing and we can.
# Run by `make test`; it never fails the build: without Chromium the browser test is skipped and
# says why. Playwright's own browser download is not used (it needs a host other than the registries).
# Set NST_TEACH_NO_CHROMIUM_INSTALL=1 to never install anything.
set -u
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ] || [ -n "${NST_TEACH_NO_CHROMIUM_INSTALL:-}" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium: $CHROMIUM is missing and this is not root with apt-get;" \
         "the browser test will be skipped (as root: apt-get install chromium)" >&2
    exit 0
fi
echo "install_chromium: installing Debian's chromium for the browser test (once) ..." >&2
log=$(mktemp)
if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >"$log" 2>&1; then
    echo "install_chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed)" >&2
else
    echo "install_chromium: apt-get failed (last lines below); the browser test will be skipped" >&2
    tail -n 5 "$log" >&2
fi
rm -f "$log"
exit 0
