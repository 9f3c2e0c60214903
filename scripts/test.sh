#!/usr/bin/env bash
# The whole test suite, from a fresh machine of this project's kind (Debian 12 with Node.js and npm; a Node
# older than 24 is replaced by Node 24 for this run, see use-node.sh): installs pnpm and the dependencies, the
# real package clients, starts PostgreSQL and Redis when they are not running, lints, checks the formatting,
# builds, type-checks, and runs Jest. The last line is `N passed, N failed`. Extra arguments go to Jest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/use-node.sh

PNPM_VERSION=12.21.0
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "test: installing pnpm $PNPM_VERSION"
  npm install -g --no-audit --no-fund "pnpm@$PNPM_VERSION" >/dev/null
fi
CI=true pnpm install --frozen-lockfile --reporter=append-only

if [ "$(id -u)" = 0 ]; then
  bash scripts/install-clients.sh
else
  CHECK_ONLY=1 bash scripts/install-clients.sh || echo "test: some package clients are missing (run scripts/install-clients.sh as root)"
fi
bash scripts/start-services.sh

pnpm lint
pnpm format:check
pnpm typecheck
pnpm -s --filter @stowage/web build
node scripts/run-jest.mjs "$@"
