# The two commands of the README, and a few conveniences. Each target sets everything up first.
.PHONY: run dev test setup migration

run:        ## set up and run ClawNet on http://localhost:3000
	scripts/run.sh

dev:        ## run with hot reload while editing code
	scripts/run.sh --dev

test:       ## set up and run every check (lint, types, unit, gateway and browser tests)
	scripts/test.sh

setup:      ## only set up (venv, Node 24, bun, openclaw, chromium)
	scripts/bootstrap.sh --browser
