# Two entry points on a fresh machine: `make demo` (the product offline) and `make test` (everything).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_PACKAGES := chromium chromium-driver bubblewrap python3-seccomp poppler-utils

.PHONY: demo test install system-packages redis lint

$(BIN)/auditbot: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/auditbot

demo: system-packages install
	$(BIN)/auditbot demo --yes

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 \
		--port 6379 --save "" --appendonly no

lint: install
	$(BIN)/ruff check .

test: system-packages install redis lint
	$(BIN)/pytest -q
