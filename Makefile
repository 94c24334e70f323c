# Build and install libami-rs for C users.
#   make                          cargo build --release
#   make install PREFIX=/usr/local [DESTDIR=...]
#   make uninstall PREFIX=...
#   make examples | make run      the C examples (examples-c/), run against ami-sim
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BUILD_DIR  ?= target/release
CARGO_BUILD ?= cargo build --release
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

all:
	$(CARGO_BUILD)

# libami.so.1.0.0 with SONAME libami.so.1 (the classic libami's), plus the
# usual symlinks; headers; the static library; pkg-config file.
install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(BUILD_DIR)/libami.so $(DESTDIR)$(LIBDIR)/libami.so.1.0.0
	ln -sf libami.so.1.0.0 $(DESTDIR)$(LIBDIR)/libami.so.1
	ln -sf libami.so.1 $(DESTDIR)$(LIBDIR)/libami.so
	install -m 644 $(BUILD_DIR)/libami.a $(DESTDIR)$(LIBDIR)/libami.a
	install -m 644 include/ami.h $(DESTDIR)$(INCLUDEDIR)/ami.h
	if [ -d include/ami ]; then install -d $(DESTDIR)$(INCLUDEDIR)/ami && install -m 644 include/ami/*.h $(DESTDIR)$(INCLUDEDIR)/ami/; fi
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' ami.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/ami.pc
	install -d $(DESTDIR)$(LIBDIR)/cmake/ami
	for f in amiConfig.cmake amiConfigVersion.cmake; do \
	  sed -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' cmake/$$f.in > $(DESTDIR)$(LIBDIR)/cmake/ami/$$f; \
	done

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libami.so $(DESTDIR)$(LIBDIR)/libami.so.1 $(DESTDIR)$(LIBDIR)/libami.so.1.0.0
	rm -f $(DESTDIR)$(LIBDIR)/libami.a $(DESTDIR)$(LIBDIR)/pkgconfig/ami.pc $(DESTDIR)$(INCLUDEDIR)/ami.h
	rm -rf $(DESTDIR)$(INCLUDEDIR)/ami $(DESTDIR)$(LIBDIR)/cmake/ami

# Every test: Rust and C (cargo test), Python (pytest), Go (go test -race).
test:
	cargo build --release
	cargo test
	@command -v python3 >/dev/null || { echo "make test: python3 is missing (apt-get install python3)"; exit 1; }
	@python3 -c 'import pytest' 2>/dev/null || { echo "make test: pytest is missing: python3 -m pip install pytest"; exit 1; }
	cd bindings/python && python3 -m pytest -q tests
	@command -v go >/dev/null || { echo "make test: go is missing: apt-get install golang-go"; exit 1; }
	cd bindings/go && go vet -tags ami_checkout ./... && go test -tags ami_checkout -race -count=1 .

examples:
	$(MAKE) -C examples-c

run:
	$(MAKE) -C examples-c run

.PHONY: all install uninstall test examples run

# Throughput of the C path against ami-sim, next to a raw read() drain.
bench-c: all
	$(CC) -std=c11 -O2 -Iinclude benches/c_bench.c -L$(BUILD_DIR) -Wl,-rpath,$(abspath $(BUILD_DIR)) -lami -lpthread -o $(BUILD_DIR)/c_bench
	./examples-c/with-sim.sh $(BUILD_DIR)/ami-sim $(BUILD_DIR)/c_bench

.PHONY: bench-c

# Events per second into C, Python and Go, in one run against one ami-sim.
bench-bindings: bench-c
	./examples-c/with-sim.sh $(BUILD_DIR)/ami-sim ./benches/bindings.sh

.PHONY: bench-bindings

# Many connections in one process: memory, threads, events to every client,
# pipelined Pings over 1,000 connections. 20,000 connections when the
# descriptor limit allows (raise it with `ulimit -n 65536` as root, or
# LimitNOFILE= in a systemd unit).
SCALE_N ?= 1000 10000 $(shell [ $$(ulimit -Hn) -gt 20100 ] 2>/dev/null && echo 20000)
bench-scale: all
	$(CC) -std=c11 -O2 -Iinclude benches/scale.c -L$(BUILD_DIR) -Wl,-rpath,$(abspath $(BUILD_DIR)) -lami -lpthread -o $(BUILD_DIR)/scale
	ulimit -n $$(ulimit -Hn); ./examples-c/with-sim.sh $(BUILD_DIR)/ami-sim $(BUILD_DIR)/scale $(SCALE_N)

.PHONY: bench-scale
