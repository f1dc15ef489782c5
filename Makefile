# Thin wrapper over Meson for the README's commands.
#   make          build (build/smtprobe)
#   make demo     run smtprobe against the embedded default server (smtprobe serve)
#   make demo-postfix   the same kind of tour against a private Postfix + Dovecot
#   make test     unit + end-to-end tests, normal and under ASan+UBSan, plus
#                 a short run of every fuzz target
#   make test-fresh  make test on a fresh Debian 12 root (debootstrap; root)
#   make lint     clang-format check, banned functions, cppcheck, layering
#   make fuzz     run the fuzz targets longer (FUZZ_SECONDS, default 60)
#   make bench    side-by-side benchmarks (bench/)
PYTHON ?= /usr/bin/python3
PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5


.PHONY: all deps build build-asan build-fuzz demo demo-postfix test test-unit test-e2e \
	test-asan test-fuzz test-fresh lint fuzz bench clean

all: build

deps:
	@scripts/install-deps

build/build.ninja:
	@meson setup build >/dev/null

build: deps build/build.ninja
	@ninja -C build >/dev/null

build-asan/build.ninja:
	@meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

build-asan: deps build-asan/build.ninja
	@ninja -C build-asan >/dev/null

build-fuzz/build.ninja:
	@CC=clang meson setup build-fuzz -Dfuzz=true -Db_lundef=false >/dev/null

build-fuzz: deps build-fuzz/build.ninja
	@ninja -C build-fuzz >/dev/null

demo: build
	@scripts/demo

demo-postfix: build
	@scripts/demo-postfix

test-unit: build
	meson test -C build --print-errorlogs

test-e2e: build
	SMTPROBE_BIN=$(CURDIR)/build/smtprobe $(PYTEST) tests/e2e

test-asan: build-asan
	meson test -C build-asan --print-errorlogs
	SMTPROBE_BIN=$(CURDIR)/build-asan/smtprobe SMTPROBE_ASAN=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(PYTEST) tests/e2e

test-fuzz: build-fuzz
	@scripts/fuzz $(FUZZ_SMOKE_SECONDS)

test: test-unit test-e2e test-asan test-fuzz

test-fresh:
	@scripts/test-fresh

fuzz: build-fuzz
	@scripts/fuzz $(FUZZ_SECONDS)

lint: deps
	@scripts/lint

bench: build
	@bench/send-vs-swaks && bench/serve-vs-sink && bench/check-vs-manual && bench/relay-vs-nmap && \
		bench/tls-vs-testssl && bench/logs-vs-pflogsumm

clean:
	rm -rf build build-asan build-fuzz
