# Known imagery (docs/media.md). Included by the Makefile (mk/*.mk).
# vpdq builds from source against FFmpeg: its Debian build packages are installed, when
# missing, before the virtualenv (`system-deps` depends on `media-deps`).
#   make media-deps    install the Debian packages vpdq needs (only those missing)
#   make bench-media   the PDQ index / hashing benchmark at 10M hashes (BENCH_MEDIA_ARGS to change)
MEDIA_DEBS := cmake pkg-config g++ make libavcodec-dev libavformat-dev libavutil-dev \
	libswscale-dev libavdevice-dev libavfilter-dev libswresample-dev
MEDIA_PY ?= $(or $(BIN),.venv/bin)/python
BENCH_MEDIA_ARGS ?=

.PHONY: media-deps bench-media
system-deps: media-deps

media-deps:
	@missing=""; for p in $(MEDIA_DEBS); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing; \
	else echo "media-deps: all present"; fi

bench-media:
	mkdir -p bench/results
	$(MEDIA_PY) bench/bench_media.py $(BENCH_MEDIA_ARGS)
