#!/usr/bin/env node
// Go proxy read/publish benchmark against an in-process server (no build needed):
//   node bench/go/run.mjs                 postgres mode (the test PostgreSQL and Redis)
//   BENCH_MODE=embedded node bench/go/run.mjs
//   BENCH_VERSIONS=1000 node bench/go/run.mjs
import { runJestBench } from '../lib/run-jest-bench.mjs';

runJestBench(import.meta.dirname);
