# Sourced by stylize tests after tests/tap.sh: a random transformer
# ($tmp/net.h5), a 64x48 photo ($tmp/photo.png, and its values in
# $tmp/photo.npy) and its plain stylization ($tmp/plain.npy), one TAP line;
# $dir names the folder of the helper scripts used.
dir=tests/export
bin/strata run $dir/random_transformer.lua "$tmp/net.h5" same
bin/strata run $dir/test_image.lua "$tmp/photo.png" "$tmp/photo.npy" data/samples/content/chicago.jpg 64x48
bin/strata stylize --model "$tmp/net.h5" "$tmp/photo.png" "$tmp/plain.npy" >/dev/null
ok $? "plain stylization"
