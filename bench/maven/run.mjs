#!/usr/bin/env node
// Maven read benchmark against an in-process server (no build needed):
//   node bench/maven/run.mjs                 postgres mode (the test PostgreSQL and Redis)
//   BENCH_MODE=embedded node bench/maven/run.mjs
//   BENCH_CLIENTS=20 BENCH_REQUESTS=2000 BENCH_VERSIONS=2000 node bench/maven/run.mjs
import { runJestBench } from '../lib/run-jest-bench.mjs';

runJestBench(import.meta.dirname);
