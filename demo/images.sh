#!/usr/bin/env bash
# Gathers the demo's sample photos into $1 (train/ and test/):
#  - scikit-image's sample images from Debian's python3-skimage package
#    (downloaded with apt-get download and unpacked, not installed):
#    astronaut.png (NASA, public domain), chelsea.png (Stefan van der Walt, CC0),
#    coffee.png (Rachel Michetti, CC0), rocket.jpg (SpaceX, public domain);
#  - ../shared/data/content/{chicago,stata}.jpg when present (the test images).
# Without either source it says what is missing and fails.
set -u
out=$1
mkdir -p "$out/train" "$out/test" "$out/cache"
skdir="$out/cache/skimage"
if [ ! -f "$skdir/usr/lib/python3/dist-packages/skimage/data/astronaut.png" ]; then
  if [ -d /usr/lib/python3/dist-packages/skimage/data ]; then
    mkdir -p "$skdir/usr/lib/python3/dist-packages/skimage"
    cp -r /usr/lib/python3/dist-packages/skimage/data "$skdir/usr/lib/python3/dist-packages/skimage/"
  else
    ( cd "$out/cache" && rm -f python3-skimage_*.deb && timeout 120 apt-get download python3-skimage >/dev/null 2>&1 ) &&
      dpkg -x "$out"/cache/python3-skimage_*.deb "$skdir" 2>/dev/null
  fi
fi
data="$skdir/usr/lib/python3/dist-packages/skimage/data"
n=0
for f in astronaut.png chelsea.png coffee.png rocket.jpg; do
  if [ -f "$data/$f" ]; then cp "$data/$f" "$out/train/"; n=$((n + 1)); fi
done
shared=${SHARED_DATA:-../shared/data}
for f in chicago.jpg stata.jpg; do
  [ -f "$shared/content/$f" ] && cp "$shared/content/$f" "$out/test/"
done
if [ "$n" -eq 0 ] && [ -d "$out/test" ] && [ -n "$(ls "$out/test")" ]; then
  cp "$out"/test/* "$out/train/"   # no skimage images: train on the test photos
  n=$(ls "$out/train" | wc -l)
fi
if [ -z "$(ls "$out/test")" ] && [ "$n" -gt 0 ]; then
  ls -d "$out"/train/* | head -2 | while read -r f; do cp "$f" "$out/test/"; done
fi
if [ "$n" -eq 0 ]; then
  echo "demo: no sample images: neither Debian's python3-skimage (apt-get download) nor $shared/content is available" >&2
  exit 1
fi
echo "demo: $n training images in $out/train, $(ls "$out/test" | wc -l) test images in $out/test"
