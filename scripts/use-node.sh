# Sourced, not run (`source scripts/use-node.sh`, from bash, in the repository's root or
# anywhere): makes `node` Node.js 24 for the rest of the shell. When the machine's node is
# older, it installs Node STOWAGE_NODE_VERSION once into .tools/node (git-ignored) from the npm
# registry's `node` package, which downloads the real binary in its preinstall script, and puts
# that binary's folder first on PATH. npm's global folder stays the machine's (NPM_CONFIG_PREFIX),
# where pnpm and the global package clients are.
# It must run before `pnpm install`, so that install scripts build for Node 24.
STOWAGE_NODE_VERSION=24.21.0

stowage_use_node() {
  local root dir bin
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  dir="$root/.tools/node"
  bin="$dir/node_modules/node/bin"
  if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 24 ]; then return 0; fi
  if [ "$("$bin/node" -v 2>/dev/null)" != "v$STOWAGE_NODE_VERSION" ]; then
    echo "use-node: installing Node.js $STOWAGE_NODE_VERSION into .tools/node" >&2
    rm -rf "$dir" && mkdir -p "$dir" || return 1
    # A package.json of its own: npm accepts the preinstall permission (allowScripts) only there.
    printf '{ "private": true, "dependencies": { "node": "%s" }, "allowScripts": { "node": true } }\n' \
      "$STOWAGE_NODE_VERSION" >"$dir/package.json"
    npm install --prefix "$dir" --no-package-lock --no-audit --no-fund --loglevel=error >&2 || return 1
    "$bin/node" -v >/dev/null || return 1
  fi
  # Left alone, npm would take the folder above the running node as its global prefix.
  NPM_CONFIG_PREFIX=${NPM_CONFIG_PREFIX:-$(npm config get prefix)} || return 1
  export NPM_CONFIG_PREFIX PATH="$bin:$PATH"
}

stowage_use_node || { echo "use-node: could not install Node.js $STOWAGE_NODE_VERSION" >&2; return 1 2>/dev/null || exit 1; }
unset -f stowage_use_node
