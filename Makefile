# portcullis: the two commands are `make run` and `make test` (README.md).
# Everything else is a thin wrapper around CMake.

SHELL := /bin/bash
.DEFAULT_GOAL := build

PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
BUILD_DIR ?= build
TEST_BUILD_DIR ?= build-asan
BENCH_BUILD_DIR ?= build-bench
PORT ?= 8080
JOBS ?= $(shell nproc)

# Debian 12 packages the build, the tests and `make run` need.
DEB_PACKAGES := g++ cmake ninja-build pkg-config ccache clang-format \
  libfcgi-dev libfcgi-bin libsoci-dev libpq-dev postgresql libsqlite3-dev sqlite3 \
  libcrypto++-dev libargon2-dev argon2 john-data python3-zxcvbn rapidjson-dev libboost-log-dev libsystemd-dev systemd \
  libqrencode-dev libicu-dev libgtest-dev libgmock-dev libbenchmark-dev libcurl4-openssl-dev curl \
  nginx wrk oathtool openssl procps util-linux chromium jq strace \
  zbar-tools librsvg2-bin python3-aiosmtpd
# The e2e harness needs node and npm: Debian's own (Node 18) when no node is installed; a newer
# node already on the machine (20+) is used as it is.
NODE_PACKAGES := $(shell command -v node >/dev/null 2>&1 || echo nodejs npm)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
WERROR := ON

.PHONY: deps build run test bench bench-pg bench-search install fmt fmt-check clean

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed' || echo "$$p"; \
	  done; echo $(NODE_PACKAGES)); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
	  echo "deps: all Debian packages present"; \
	fi

build: deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPORTCULLIS_BUILD_TESTS=OFF -DPORTCULLIS_WERROR=$(WERROR)
	cmake --build $(BUILD_DIR) -j $(JOBS) --target portcullis

run: build
	@bash nginx/run-dev.sh "$(CURDIR)" "$(CURDIR)/$(BUILD_DIR)/portcullis" $(PORT)

# One sanitizer build (ASan + UBSan, -Werror, test-only routes), then every
# ctest label: unit, integration (SQLite and PostgreSQL), config checks.
test: deps
	cmake -S . -B $(TEST_BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DPORTCULLIS_SANITIZE=ON -DPORTCULLIS_WERROR=ON -DPORTCULLIS_TEST_ROUTES=ON
	cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	cd $(TEST_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: deps
	cmake -S . -B $(BENCH_BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release \
	  -DPORTCULLIS_BUILD_BENCH=ON -DPORTCULLIS_BUILD_TESTS=OFF
	cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target portcullis micro_bench fcgi_hello \
	  pg_probe_list pg_probe_me aead_bench search_seed
	bash tests/bench/run.sh "$(CURDIR)" "$(CURDIR)/$(BENCH_BUILD_DIR)"
	bash tests/bench/pg.sh "$(CURDIR)" "$(CURDIR)/$(BENCH_BUILD_DIR)"
	bash tests/bench/search.sh "$(CURDIR)" "$(CURDIR)/$(BENCH_BUILD_DIR)"

# The PostgreSQL scenarios of `make bench` alone (tests/bench/pg.sh).
bench-pg: deps
	cmake -S . -B $(BENCH_BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release \
	  -DPORTCULLIS_BUILD_BENCH=ON -DPORTCULLIS_BUILD_TESTS=OFF
	cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target portcullis fcgi_hello \
	  pg_probe_list pg_probe_me aead_bench
	bash tests/bench/pg.sh "$(CURDIR)" "$(CURDIR)/$(BENCH_BUILD_DIR)"

# The search benchmark of `make bench` alone (tests/bench/search.sh): 100 000 memories in one
# tenant, p50/p99 of 100 searches through nginx, on SQLite and PostgreSQL.
bench-search: deps
	cmake -S . -B $(BENCH_BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release \
	  -DPORTCULLIS_BUILD_BENCH=ON -DPORTCULLIS_BUILD_TESTS=OFF
	cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target portcullis search_seed
	bash tests/bench/search.sh "$(CURDIR)" "$(CURDIR)/$(BENCH_BUILD_DIR)"

# FHS install: binary in $(PREFIX)/bin, migrations and SPA in
# $(PREFIX)/share/portcullis, config in /etc/portcullis, units in
# $(SYSTEMD_UNIT_DIR), nginx site and snippets in /etc/nginx.
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD_DIR) --prefix "$(PREFIX)"
	install -d -m 0755 "$(DESTDIR)$(SYSTEMD_UNIT_DIR)"
	for u in portcullis.service portcullis.socket portcullis-maintenance.service portcullis-maintenance.timer portcullis-mailer.service; do \
	  sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/$$u > "$(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u"; \
	  chmod 0644 "$(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u"; \
	done
	install -d -m 0755 "$(DESTDIR)$(SYSCONFDIR)/nginx/snippets" "$(DESTDIR)$(SYSCONFDIR)/nginx/sites-available"
	install -m 0644 nginx/snippets/*.conf "$(DESTDIR)$(SYSCONFDIR)/nginx/snippets/"
	sed 's|/usr/share/portcullis/html|$(PREFIX)/share/portcullis/html|g' nginx/portcullis.conf \
	  > "$(DESTDIR)$(SYSCONFDIR)/nginx/sites-available/portcullis.conf"
	install -d -m 0750 "$(DESTDIR)$(SYSCONFDIR)/portcullis" "$(DESTDIR)$(SYSCONFDIR)/portcullis/credentials"
	[ -e "$(DESTDIR)$(SYSCONFDIR)/portcullis/portcullis.env" ] || \
	  install -m 0640 .env.example "$(DESTDIR)$(SYSCONFDIR)/portcullis/portcullis.env"
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  getent passwd portcullis >/dev/null || useradd --system --home-dir /var/lib/portcullis \
	    --shell /usr/sbin/nologin portcullis; \
	  chgrp portcullis "$(SYSCONFDIR)/portcullis" "$(SYSCONFDIR)/portcullis/portcullis.env"; \
	fi
	@echo "installed; next: README.md, section 'Install on a server'"

fmt:
	find app handlers tests -name '*.cpp' -o -name '*.h' | xargs clang-format -i

fmt-check:
	find app handlers tests -name '*.cpp' -o -name '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) $(BENCH_BUILD_DIR) var/run var/nginx
