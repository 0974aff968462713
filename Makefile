# Every target runs on the Node.js major in .nvmrc: the system node when it is recent enough,
# otherwise the copy scripts/ensure-node.sh installs into .tools/node (first on PATH here).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/.tools/node/node_modules/node/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# Testbed programs (registry, crane, etcd, kube-apiserver, ...) are built once into this cache.
export DIGESTPIN_CACHE ?= $(HOME)/.cache/digestpin

SOURCES := $(shell find src -name '*.ts' 2>/dev/null) tsconfig.json tsconfig.build.json
AVA := ava --timeout=120s

.PHONY: setup toolchain build lint test unit testbed integration e2e coverage run clean testbed-tools

toolchain:
	@scripts/ensure-node.sh

node_modules/.installed: package.json package-lock.json | toolchain
	npm ci --loglevel=error
	@touch $@

setup: toolchain node_modules/.installed

dist/.built: node_modules/.installed $(SOURCES)
	rm -rf dist
	tsc -p tsconfig.build.json
	@touch $@

build: dist/.built

lint: setup
	eslint .
	prettier --check .
	tsc --noEmit

unit: setup
	$(AVA) 'test/unit/**/*.test.ts'

testbed-tools: toolchain
	scripts/tools.sh all

test: lint build unit

coverage: setup
	c8 --reporter=text --reporter=html $(AVA) 'test/unit/**/*.test.ts'

clean:
	rm -rf dist coverage node_modules .tools
