#!/usr/bin/env node
// PyPI simple-index read benchmark against an in-process server (no build needed):
//   node bench/pypi/run.mjs                 postgres mode (the test PostgreSQL and Redis)
//   BENCH_MODE=embedded node bench/pypi/run.mjs
//   BENCH_CLIENTS=10 BENCH_REQUESTS=1000 BENCH_FILES=5000 BENCH_PROJECTS=2000 node bench/pypi/run.mjs
import { runJestBench } from '../lib/run-jest-bench.mjs';

runJestBench(import.meta.dirname);
