#!/usr/bin/env bash
# `strata stylize --lean-memory` (the allocator's lean mode for the pass,
# engine/memory.h) changes where blocks come from, never the result: the same
# bytes as without it. What it saves is checked in tests/unit/test_memory.c.
. tests/tap.sh
dir=tests/export
bin/strata run $dir/random_transformer.lua "$tmp/net.h5" same
bin/strata run $dir/test_image.lua "$tmp/photo.png" "$tmp/photo.npy" data/samples/content/chicago.jpg 64x48
bin/strata stylize --model "$tmp/net.h5" "$tmp/photo.png" "$tmp/plain.npy" >/dev/null
ok $? "plain stylization"
bin/strata stylize --model "$tmp/net.h5" --lean-memory "$tmp/photo.png" "$tmp/lean.npy" >/dev/null
ok $? "stylize --lean-memory"
cmp -s "$tmp/plain.npy" "$tmp/lean.npy"
ok $? "the same values with and without --lean-memory"
tap_end
