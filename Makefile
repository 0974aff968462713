# Every target runs on the Node.js major in .nvmrc: the system node when it is recent enough,
# otherwise the copy scripts/ensure-node.sh installs into .tools/node (first on PATH here).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/.tools/node/node_modules/node/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# Testbed programs (registry, crane, etcd, kube-apiserver, ...) are built once into this cache.
export DIGESTPIN_CACHE ?= $(HOME)/.cache/digestpin

SOURCES := $(shell find src -name '*.ts' 2>/dev/null) tsconfig.json tsconfig.build.json
AVA := ava

TESTBED := node --import tsx scripts/testbed.ts

.PHONY: setup toolchain build lint test unit testbed integration e2e coverage run clean \
	testbed-tools testbed-up testbed-down chart deploy-manifests run walkthrough property faults soak bench

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
	$(AVA) --timeout=60s 'test/unit/**/*.test.ts'

# The testbed's programs (registry, crane, toxiproxy, etcd, kube-apiserver, kubectl, helm) are
# built once from the Go module proxy into $(DIGESTPIN_CACHE); later runs reuse them.
testbed-tools: toolchain node-packages
	scripts/tools.sh all

# Smoke tests proving each testbed program is real and works.
testbed: setup testbed-tools
	$(AVA) --timeout=300s 'test/testbed/**/*.test.ts'

# digestpin against real registries (and a scripted hostile one).
integration: setup testbed-tools
	$(AVA) --timeout=120s 'test/integration/**/*.test.ts'

# A control plane and registries in the background for people: `make testbed-up`, then follow
# what it prints; `make testbed-down` stops it.
testbed-up: setup testbed-tools node-packages
	$(IN_TESTBED_NETNS) $(TESTBED) up

testbed-down: setup
	@if [ -e /run/netns/$(TESTBED_NETNS) ]; then $(IN_TESTBED_NETNS) $(TESTBED) down; \
		scripts/node-netns.sh remove $(TESTBED_NETNS) $(TESTBED_NODE_DIR); else $(TESTBED) down; fi

# The Helm chart: lint, renderings, server-side dry-runs, an install and its RBAC; deploy/ in sync.
chart: build testbed-tools
	$(AVA) --timeout=300s 'test/chart/**/*.test.ts'

# Regenerates deploy/ (plain manifests) from the chart's default rendering.
deploy-manifests: setup testbed-tools
	node --import tsx scripts/render-deploy.ts

# digestpin serve against a real control plane: the attack, dry-runs, policy edits, outages.
e2e: setup testbed-tools
	$(AVA) --timeout=300s 'test/e2e/**/*.test.ts'

# Refreshes docs/walkthrough.md from real e2e runs.
walkthrough: setup testbed-tools
	node --import tsx test/e2e/walkthrough.ts

# Hostile input, property-based (fast-check): parsers and the admission handler never throw.
property: setup
	$(AVA) --timeout=120s 'test/property/**/*.test.ts'

# The registry faults matrix alone (it also runs in `make integration`).
faults: setup testbed-tools
	$(AVA) --timeout=120s 'test/integration/faults/**/*.test.ts'

# Performance next to the bare-Node limit and the peer, on the testbed (not in `make test`:
# ~18 minutes, wants a quiet machine); prints the tables and rewrites BENCHMARKS.md.
# BENCH_ARGS: e.g. --only warm,cold | --rounds 1 | --no-write (see bench/run.ts).
bench: build testbed-tools
	node --import tsx bench/run.ts $(BENCH_ARGS)

# Load with a registry outage and lifecycle under load (not in `make test`: ~5 minutes, wants
# a quiet machine); rewrites docs/reliability.md from the runs' own figures.
RELIABILITY := .run/reliability
soak: build testbed-tools
	rm -rf $(RELIABILITY)
	DIGESTPIN_REPORT_DIR=$(RELIABILITY) $(AVA) --timeout=120s 'test/property/**/*.test.ts' \
		'test/integration/faults/**/*.test.ts'
	DIGESTPIN_REPORT_DIR=$(RELIABILITY) $(AVA) --serial --concurrency=1 --timeout=600s \
		'test/soak/**/*.test.ts'
	node --import tsx scripts/soak-report.ts $(RELIABILITY) docs/reliability.md

test: lint build unit property testbed integration chart e2e cluster

coverage: setup
	c8 --reporter=text --reporter=html $(AVA) --timeout=60s 'test/unit/**/*.test.ts'

# digestpin on https://127.0.0.1:8443 with examples/policy.yaml and a self-signed certificate
# made on first use (.run/tls); Ctrl-C stops it.
RUN_TLS := .run/tls
run: build
	@[ -f $(RUN_TLS)/tls.crt ] || bin/digestpin certs --service digestpin --namespace local \
		--host 127.0.0.1 --host localhost --out $(RUN_TLS) >/dev/null
	@echo "digestpin: https://127.0.0.1:8443 (policy examples/policy.yaml), metrics http://127.0.0.1:9090/metrics"
	@echo "Try, in another terminal:"
	@echo "  curl -s --cacert $(RUN_TLS)/ca.crt -H 'Content-Type: application/json' \\"
	@echo "    --data @examples/admissionreview-pod.json https://127.0.0.1:8443/mutate"
	bin/digestpin serve --policy examples/policy.yaml --host 127.0.0.1 --metrics-host 127.0.0.1 \
		--tls-cert-file $(RUN_TLS)/tls.crt --tls-key-file $(RUN_TLS)/tls.key --drain-delay 0

# ── The testbed node, the image and the in-cluster e2e ───────────────────────────────────────
# containerd, kubelet and kube-proxy run in a network namespace of their own
# (scripts/node-netns.sh); see README.md (Test) and docs/install.md (the image).
.PHONY: node-packages image cluster testbed-deploy
TESTBED_NETNS := digestpin-testbed-$(shell printf %s '$(CURDIR)' | sha256sum | cut -c1-8)
TESTBED_NODE_DIR := $(CURDIR)/.testbed-node
IN_TESTBED_NETNS := scripts/node-netns.sh enter $(TESTBED_NETNS) $(TESTBED_NODE_DIR) --

# Debian packages of the node and the image build (CNI plugins, iptables, buildah, ...).
node-packages:
	scripts/node-packages.sh

# digestpin's image into .run/image, built with buildah (no Docker daemon) on an offline
# stand-in for the official Node 24 image; BASE_IMAGE=REF builds on REF instead.
image: toolchain node-packages
	scripts/image.sh

# The image pushed to the testbed registry and the chart installed with it by digest
# (after make testbed-up).
testbed-deploy: setup testbed-tools image
	$(IN_TESTBED_NETNS) $(TESTBED) deploy

# digestpin in a cluster with a node: the image, the chart, Pods pulled and run by digest.
cluster: build testbed-tools node-packages image
	scripts/node-netns.sh run -- $(AVA) --timeout=900s 'test/cluster/**/*.test.ts'
# ── end of the node block ─────────────────────────────────────────────────────────────────────

clean:
	rm -rf dist coverage node_modules .tools .run
