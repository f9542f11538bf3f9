# Sourced by scripts/test: finds Chromium and ChromeDriver for the browser tests, installing
# Debian's `chromium` and `chromium-driver` when they are missing and we may (root, apt-get).
# Exports TRACEMARK_TEST_CHROMEDRIVER and TRACEMARK_TEST_CHROMIUM, and
# TRACEMARK_TEST_REQUIRE_BROWSER=1 so that a test that cannot start the browser fails.

browser_find() {
  CHROMIUM_BIN="$(command -v chromium || command -v chromium-browser || true)"
  CHROMEDRIVER_BIN="$(command -v chromedriver || true)"
  [ -n "$CHROMIUM_BIN" ] && [ -n "$CHROMEDRIVER_BIN" ]
}

browser_setup() {
  if [ "${TRACEMARK_TEST_NO_BROWSER:-0}" = 1 ]; then
    echo "*** TRACEMARK_TEST_NO_BROWSER=1: the browser tests will NOT run ***" >&2
    return 0
  fi
  if ! browser_find && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium and ChromeDriver (Debian packages) for the browser tests" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } >/dev/null 2>&1 \
      || echo "could not install chromium and chromium-driver" >&2
  fi
  if browser_find; then
    export TRACEMARK_TEST_CHROMIUM="$CHROMIUM_BIN"
    export TRACEMARK_TEST_CHROMEDRIVER="$CHROMEDRIVER_BIN"
    export TRACEMARK_TEST_REQUIRE_BROWSER=1
    echo "browser tests: $("$CHROMIUM_BIN" --version 2>/dev/null | head -1) with $CHROMEDRIVER_BIN"
  else
    unset TRACEMARK_TEST_CHROMIUM TRACEMARK_TEST_CHROMEDRIVER
    echo "*** Chromium/ChromeDriver not found: the browser tests will NOT run ***" >&2
  fi
}
