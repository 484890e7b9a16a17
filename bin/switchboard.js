#!/usr/bin/env node
// The `switchboard` command. Runs the built CLI (npm ci builds it in `prepare`).
import { main } from '@switchboard/server/cli';

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
