# ngx_http_douyin_module: the verbs users and scripts rely on.
#
#   make            build build/ngx_http_douyin_module.so against the nginx
#                   installed here (Debian's nginx + nginx-dev); one line
#                   per step, the full output in build/*.log (V=1 shows it)
#   make test       build, then run the Test::Nginx suite (prove -I. -r t;
#                   TESTS=t/plain/050-run.t runs one file)
#   make run        build and start the demo on loopback (see README)
#   make stop       stop what make run started (every RUN_DIR copy too)
#   make install    install the module into Debian's layout (DESTDIR
#                   honoured); make uninstall removes what it installed
#   make bench      build and print benchmark figures
#   make asan       build build-asan/ngx_http_douyin_module.so with
#                   AddressSanitizer and UBSan (own nginx tree, same flags)
#   make test-asan  build that, then run the suite with it loaded into the
#                   stock nginx (scripts/test-asan.sh; README "Tests")
#   make clean      remove build output and test scratch folders
#
# NGX_SRC is an nginx source tree with configure: Debian's nginx-dev ships
# one in /usr/share/nginx/src with the flags Debian used in conf_flags
# (read when configuring, after the packages are installed).  For an
# upstream tree set NGX_SRC to it and NGX_CONF_FLAGS to that nginx's own
# configure flags.

NGX_SRC        ?= /usr/share/nginx/src
NGX_CONF_FLAGS ?=
NGINX          ?= /usr/sbin/nginx
BUILD          := build
# extra compiler / linker flags for the module (make asan sets them)
NGX_CC_OPT     :=
NGX_LD_OPT     :=
MODULE         := $(BUILD)/ngx_http_douyin_module.so
SOURCES        := $(wildcard ngx_http_douyin_module/*.c ngx_http_douyin_module/*.h)

# Debian's layout for dynamic modules (what its libnginx-mod-* packages
# do): the .so in the modules folder, a conf with its load_module line in
# modules-available, and a symlink to it in modules-enabled, which
# Debian's /etc/nginx/nginx.conf includes in its main context.  The
# load_module path is relative to nginx's prefix, /usr/share/nginx, whose
# modules symlink (from nginx-common) points at /usr/lib/nginx/modules.
DESTDIR         ?=
MODULES_DIR     ?= /usr/lib/nginx/modules
MODULES_AVAIL   ?= /usr/share/nginx/modules-available
MODULES_ENABLED ?= /etc/nginx/modules-enabled
MODULE_CONF     := mod-http-douyin.conf

# what make test runs: files or folders
TESTS           ?= t

# the version of the nginx source tree in folder $(1), for messages
ngx_version     = $$(sed -n 's/^\#define NGINX_VERSION *"\(.*\)"/\1/p' \
                      $(1)/src/core/nginx.h 2>/dev/null)

# the fallback Test::Nginx in t/lib is used only when the real one is missing
TEST_PERL5LIB  := $(shell perl -MTest::Nginx::Socket -e1 2>/dev/null || echo t/lib)
# every run listens on a free port of its own (TEST_NGINX_RANDOMIZE: each
# file picks a free port and uses t/servroot_<port>), so that two runs on
# one machine, from one checkout or two, never collide; a port given in
# TEST_NGINX_PORT or TEST_NGINX_SERVER_PORT is used instead, with
# t/servroot_<port> unless TEST_NGINX_SERVROOT is set
TEST_PORT      := $(or $(TEST_NGINX_SERVER_PORT),$(TEST_NGINX_PORT))
ifeq ($(TEST_PORT),)
TEST_PORT_ENV  := TEST_NGINX_RANDOMIZE=1
else
TEST_PORT_ENV  := TEST_NGINX_SERVROOT=$(or $(TEST_NGINX_SERVROOT),$(CURDIR)/t/servroot_$(TEST_PORT))
endif
TEST_ENV       := TEST_NGINX_BINARY=$(NGINX) \
                  TEST_NGINX_LOAD_MODULES=$(CURDIR)/$(MODULE) \
                  $(TEST_PORT_ENV) \
                  PERL5LIB=$(TEST_PERL5LIB)$${PERL5LIB:+:$$PERL5LIB}

.PHONY: all test run stop install uninstall bench clean asan test-asan

all: $(MODULE)

$(BUILD)/nginx/objs/Makefile: config
	@./scripts/deps.sh scripts/debian-packages-build
	@./scripts/step.sh $(BUILD)/configure.log \
	    "configuring nginx $(call ngx_version,$(NGX_SRC)) for the module ($(BUILD)/nginx)" \
	    ./scripts/configure.sh $(NGX_SRC) $(BUILD)/nginx '$(NGX_CONF_FLAGS)' \
	        $(if $(NGX_CC_OPT),'--with-cc-opt=$(NGX_CC_OPT)') \
	        $(if $(NGX_LD_OPT),'--with-ld-opt=$(NGX_LD_OPT)')

# the /docs page and /openapi.json are built into the module
ngx_http_douyin_module/ngx_http_douyin_docs.c: docs/index.html \
        docs/openapi.json scripts/embed-docs.py
	@./scripts/step.sh $(BUILD)/embed-docs.log \
	    "embedding docs/ into $@" python3 scripts/embed-docs.py

# installed as a new file, not over the old one: running nginx processes
# have the old one mapped
$(MODULE): $(BUILD)/nginx/objs/Makefile $(SOURCES) \
        ngx_http_douyin_module/ngx_http_douyin_docs.c
	@./scripts/step.sh $(BUILD)/make.log \
	    "building the module against nginx $(call ngx_version,$(BUILD)/nginx)" \
	    $(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	@cp $(BUILD)/nginx/objs/ngx_http_douyin_module.so $@.tmp
	@mv -f $@.tmp $@
	@echo "built $@"

# TEST_JOBS=-j2 runs two files at a time (each on its own free port; not
# with a given port): about 60% of the time; one file at a time stays the
# default, the gentler on a loaded machine (README "Tests")
test: $(MODULE)
	./scripts/deps.sh
	$(TEST_ENV) prove -I. -r $(TEST_JOBS) $(TESTS)

run:
	./run.sh start

stop:
	./run.sh stop

# a new file moved over the old one: a running nginx keeps the old one
# mapped until it restarts
install: $(MODULE)
	install -d $(DESTDIR)$(MODULES_DIR) $(DESTDIR)$(MODULES_AVAIL) \
	    $(DESTDIR)$(MODULES_ENABLED)
	install -m 644 $(MODULE) $(DESTDIR)$(MODULES_DIR)/ngx_http_douyin_module.so.new
	mv -f $(DESTDIR)$(MODULES_DIR)/ngx_http_douyin_module.so.new \
	    $(DESTDIR)$(MODULES_DIR)/ngx_http_douyin_module.so
	printf 'load_module modules/ngx_http_douyin_module.so;\n' \
	    > $(DESTDIR)$(MODULES_AVAIL)/$(MODULE_CONF)
	chmod 644 $(DESTDIR)$(MODULES_AVAIL)/$(MODULE_CONF)
	ln -sfn $(MODULES_AVAIL)/$(MODULE_CONF) \
	    $(DESTDIR)$(MODULES_ENABLED)/50-$(MODULE_CONF)
	@echo "installed: nginx loads the module at its next start or binary upgrade"
	@echo "  (a reload keeps the code it has). Then configure it: README, \"In the gateway's own nginx\"."

# removes what install put there, and the folders it made when they are
# left empty (a libnginx-mod-* package keeps its files in them)
uninstall:
	rm -f $(DESTDIR)$(MODULES_ENABLED)/50-$(MODULE_CONF) \
	    $(DESTDIR)$(MODULES_AVAIL)/$(MODULE_CONF) \
	    $(DESTDIR)$(MODULES_DIR)/ngx_http_douyin_module.so
	@rmdir $(DESTDIR)$(MODULES_AVAIL) $(DESTDIR)$(MODULES_DIR) 2>/dev/null || :
	@rmdir $(DESTDIR)$(dir $(MODULES_DIR)) 2>/dev/null || :
	@echo "uninstalled; remove the douyin lines from nginx's configuration before its next start"

bench: $(MODULE)
	bench/run.sh

# The sanitizer build: the same recipe in its own folder, the module
# compiled and linked with -fsanitize (it then needs libasan preloaded into
# nginx: scripts/asan-nginx), plus scripts/asan-preload.c, preloaded with
# it (a dlclose that keeps the module mapped until LeakSanitizer has named
# its frames at exit; UBSan's report file).
ASAN_BUILD     := build-asan
ASAN_FLAGS     := -fsanitize=address,undefined -fno-omit-frame-pointer -g -O1

asan:
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
	    NGX_CC_OPT='$(ASAN_FLAGS)' NGX_LD_OPT='-fsanitize=address,undefined' \
	    all $(ASAN_BUILD)/asan-preload.so

$(ASAN_BUILD)/asan-preload.so: scripts/asan-preload.c
	@mkdir -p $(ASAN_BUILD)
	$(CC) -shared -fPIC -O2 -Wall -Werror -o $@ $< -ldl

# TESTS as make test (the default, t, runs all but the files
# scripts/test-asan.sh leaves out)
test-asan: asan
	./scripts/deps.sh
	SAN_NGINX=$(NGINX) ASAN_BUILD=$(ASAN_BUILD) TEST_JOBS='$(TEST_JOBS)' \
	    ./scripts/test-asan.sh $(filter-out t,$(TESTS))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) t/servroot t/servroot_*
