# Known imagery (issue 4): system packages that vpdq needs to build from source.
# Included by the top-level Makefile; `make media-deps` before installing the venv.
PYTHON ?= .venv/bin/python
MEDIA_DEBS := cmake pkg-config g++ make libavcodec-dev libavformat-dev libavutil-dev \
	libswscale-dev libavdevice-dev libavfilter-dev libswresample-dev

.PHONY: media-deps
media-deps:
	@missing=""; for p in $(MEDIA_DEBS); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing; \
	else echo "media-deps: all present"; fi

.PHONY: bench-media
bench-media:
	$(PYTHON) bench/bench_media.py $(BENCH_MEDIA_ARGS)
