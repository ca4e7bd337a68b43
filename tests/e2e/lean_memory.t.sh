#!/usr/bin/env bash
# `strata stylize --lean-memory` (the allocator's lean mode for the pass,
# engine/memory.h) changes where blocks come from, never the result: the same
# bytes as without it. What it saves is checked in tests/unit/test_memory.c.
. tests/tap.sh
. tests/e2e/stylize_fixture.sh
bin/strata stylize --model "$tmp/net.h5" --lean-memory "$tmp/photo.png" "$tmp/lean.npy" >/dev/null
ok $? "stylize --lean-memory"
cmp -s "$tmp/plain.npy" "$tmp/lean.npy"
ok $? "the same values with and without --lean-memory"
tap_end
