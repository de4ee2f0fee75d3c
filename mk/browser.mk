# Browser tests (tests/console/test_console_browser.py) drive Debian's Chromium through
# Playwright; Playwright itself comes with the dev extras. Never `playwright install`: the
# tests launch /usr/bin/chromium via executable_path.
.PHONY: browser-deps

browser-deps:
	@if [ -x /usr/bin/chromium ]; then \
		echo "chromium: present"; \
	else \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends chromium; \
	fi

system-deps: browser-deps
