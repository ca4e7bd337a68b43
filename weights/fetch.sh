#!/usr/bin/env bash
# Downloads the published weights listed in weights/manifest.tsv, verifies
# their size and checksum, and converts them to strata HDF5 weights:
#   weights/vgg19.h5  from the Keras VGG-19 notop file
#   weights/fcrn.h5   from the FCRN NYU checkpoint zip
#
# Usage: weights/fetch.sh [options] [NAME ...]
#   (no NAME)      every "weights:" entry of the manifest
#   NAME ...       just these entries (any category: weights, reference, data)
#   --data         also the "data:" entries (COCO train2014, 13.5 GB)
#   --all          every entry
#   --no-convert   download and verify only
#   --force        convert again even when the output is newer than the download
#   --list         print the manifest's entries and exit
# Environment: STRATA_DOWNLOADS (default weights/downloads),
#   STRATA_WEIGHTS_MIRRORS (URL bases, separated by spaces, tried in order
#   instead of the manifest's URLs: BASE/NAME for each; the word "manifest"
#   in the list stands for the manifest's own URLs),
#   STRATA_CONNECT_TIMEOUT (seconds, default 15), STRATA_RESUME_TRIES
#   (attempts per URL while an interrupted transfer makes progress, default
#   3), STRATA_MANIFEST (default weights/manifest.tsv), STRATA_BIN (default
#   bin/strata), STRATA_DOWNLOADER (curl or wget; default: curl when installed).
# A file already in the downloads folder with the right size and checksum is
# used as is, so on a machine without network access place the files there
# by hand (see weights/README.md) and run this script again.
set -u
cd "$(dirname "$0")/.." || exit 1

MANIFEST=${STRATA_MANIFEST:-weights/manifest.tsv}
DL=${STRATA_DOWNLOADS:-weights/downloads}
CONNECT_TIMEOUT=${STRATA_CONNECT_TIMEOUT:-15}
RESUME_TRIES=${STRATA_RESUME_TRIES:-3}
STRATA=${STRATA_BIN:-bin/strata}
ME=weights/fetch.sh

say() { printf '%s\n' "$*"; }
err() { printf '%s: %s\n' "$ME" "$*" >&2; }

want_data=0 want_all=0 convert=1 force=0 list=0
names=()
for a in "$@"; do
  case "$a" in
    --data) want_data=1 ;;
    --all) want_all=1 ;;
    --no-convert) convert=0 ;;
    --force) force=1 ;;
    --list) list=1 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) err "unknown option '$a' (see --help)"; exit 2 ;;
    *) names+=("$a") ;;
  esac
done

[ -r "$MANIFEST" ] || { err "cannot read the manifest $MANIFEST"; exit 2; }

# ---- tools

if [ -n "${STRATA_DOWNLOADER:-}" ]; then # curl or wget, to choose one
  DOWNLOADER=$STRATA_DOWNLOADER
elif command -v curl >/dev/null 2>&1; then
  DOWNLOADER=curl
elif command -v wget >/dev/null 2>&1; then
  DOWNLOADER=wget
else
  DOWNLOADER=
fi

checksum() { # TYPE FILE -> hex digest on stdout
  case "$1" in
    md5) md5sum "$2" | cut -d' ' -f1 ;;
    sha256) sha256sum "$2" | cut -d' ' -f1 ;;
    *) return 1 ;;
  esac
}

file_size() { stat -c %s "$1" 2>/dev/null || wc -c <"$1"; }
part_size() { if [ -e "$1" ]; then file_size "$1"; else echo 0; fi; }

# urls_for NAME MANIFEST_URLS: sets the array URLS to the URLs to try, from
# STRATA_WEIGHTS_MIRRORS when set (split into words; no glob expansion).
urls_for() {
  local name=$1 base
  local -a listed bases
  read -r -d '' -a listed <<<"$2" || true
  URLS=()
  if [ -z "${STRATA_WEIGHTS_MIRRORS:-}" ]; then
    URLS=("${listed[@]}")
    return
  fi
  read -r -d '' -a bases <<<"$STRATA_WEIGHTS_MIRRORS" || true
  for base in "${bases[@]}"; do
    if [ "$base" = manifest ]; then URLS+=("${listed[@]}"); else URLS+=("${base%/}/$name"); fi
  done
}

# verify FILE BYTES TYPE SUM: 0 when it matches; else 1 with $why set.
why=
verify() {
  local f=$1 bytes=$2 type=$3 sum=$4 size got
  size=$(file_size "$f")
  if [ "$size" != "$bytes" ]; then why="size mismatch: $size bytes, expected $bytes"; return 1; fi
  got=$(checksum "$type" "$f") || { why="unknown checksum type '$type'"; return 1; }
  if [ "$got" != "$sum" ]; then why="checksum mismatch: $type $got, expected $sum"; return 1; fi
  return 0
}

# download URL OUT: resumes OUT when it exists; 0 on success, else 1 with
# $why, and $unreachable = 1 when no connection to the host was made.
download() {
  local url=$1 out=$2 log rc
  unreachable=0
  log=$(mktemp) || { why="cannot create a temporary file"; return 1; }
  if [ "$DOWNLOADER" = curl ]; then
    # -f: HTTP errors fail; the speed limit ends a stalled transfer. No
    # retries: a dead host fails fast, and running again resumes (-C -).
    curl -fL -sS --connect-timeout "$CONNECT_TIMEOUT" --speed-limit 1024 --speed-time 60 \
      -C - -o "$out" "$url" 2>"$log"
    rc=$?
    if [ $rc = 33 ] || [ $rc = 36 ]; then # the server cannot resume: start over
      rm -f "$out"
      curl -fL -sS --connect-timeout "$CONNECT_TIMEOUT" --speed-limit 1024 --speed-time 60 \
        -o "$out" "$url" 2>"$log"
      rc=$?
    fi
  else
    wget -nv -c --connect-timeout="$CONNECT_TIMEOUT" --read-timeout=60 --tries=1 -O "$out" "$url" 2>"$log"
    rc=$?
  fi
  # curl: 5/6 cannot resolve, 7 cannot connect, 28 timed out; wget: 4 network failure
  case "$DOWNLOADER:$rc" in curl:5|curl:6|curl:7|curl:28|wget:4) unreachable=1 ;; esac
  why=$(tail -n 1 "$log" | tr -d '\r')
  [ -n "$why" ] || why="$DOWNLOADER exit status $rc"
  rm -f "$log"
  return $rc
}

# fetch NAME URLS BYTES TYPE SUM: leaves a verified $DL/NAME; 0 or 1. Only a
# verified file gets the name NAME: transfers go to NAME.part.
fetch() {
  local name=$1 bytes=$3 type=$4 sum=$5 dest=$DL/$1 part=$DL/$1.part url tried=() reached=0
  urls_for "$name" "$2"
  if [ -e "$dest" ]; then
    if verify "$dest" "$bytes" "$type" "$sum"; then
      say "ok: $dest ($bytes bytes, $type verified)"
      return 0
    fi
    err "$dest is present but wrong ($why); moving it to $dest.bad and downloading again"
    mv -f "$dest" "$dest.bad"
  fi
  if [ -z "$DOWNLOADER" ]; then
    err "neither curl nor wget is installed: cannot download $name"
    hand_message "$name" "$bytes" "$type" "$sum" 0
    return 1
  fi
  local avail got_one=0
  avail=$(df -Pk "$DL" 2>/dev/null | awk 'NR == 2 { print $4 }')
  if [ -n "$avail" ] && [ $((avail * 1024)) -lt "$bytes" ]; then
    err "not enough disk space in $DL for $name: $((avail / 1024)) MiB free, $((bytes / 1048576)) MiB needed"
    return 1
  fi
  if [ ${#URLS[@]} = 0 ]; then
    err "no URL to download $name from (STRATA_WEIGHTS_MIRRORS or $MANIFEST)"
    return 1
  fi
  for url in "${URLS[@]}"; do
    # A complete .part left by an interrupted run only needs verifying.
    if [ -s "$part" ] && [ "$(file_size "$part")" = "$bytes" ] && verify "$part" "$bytes" "$type" "$sum"; then
      mv -f "$part" "$dest"
      say "ok: $dest ($bytes bytes, $type verified)"
      return 0
    fi
    say "downloading $name ($((bytes / 1048576)) MiB) from $url"
    local tries=0 before after ok=1
    while :; do
      before=$(part_size "$part")
      if download "$url" "$part"; then ok=0; break; fi
      [ "$unreachable" = 1 ] || reached=1
      tries=$((tries + 1))
      after=$(part_size "$part")
      # An interrupted transfer that made progress is resumed at once.
      if [ "$tries" -lt "$RESUME_TRIES" ] && [ "$after" -gt "$before" ] && [ "$after" -lt "$bytes" ]; then
        say "interrupted at $after of $bytes bytes ($why); resuming"
        continue
      fi
      break
    done
    if [ "$ok" = 0 ]; then
      reached=1
      if verify "$part" "$bytes" "$type" "$sum"; then
        mv -f "$part" "$dest"
        say "ok: $dest ($bytes bytes, $type verified)"
        return 0
      fi
      tried+=("$url (downloaded, but $why)")
      got_one=1
      rm -f "$part" # a wrong file must not be resumed from the next mirror
    else
      tried+=("$url ($why)")
      # keep a partial download of the right file for resuming later
      if ! { [ -s "$part" ] && [ "$(file_size "$part")" -lt "$bytes" ]; }; then rm -f "$part"; fi
    fi
  done
  if [ "$reached" = 0 ]; then
    err "no network: could not connect to any of the ${#URLS[@]} URLs for $name; tried:"
  else
    err "could not download $name; tried:"
  fi
  for t in "${tried[@]}"; do printf '  %s\n' "$t" >&2; done
  hand_message "$name" "$bytes" "$type" "$sum" "$got_one"
  return 1
}

hand_message() { # NAME BYTES TYPE SUM GOT_ONE (the URLs: $URLS)
  local name=$1 bytes=$2 type=$3 sum=$4
  if [ "$5" = 1 ]; then
    echo "  A URL served a file that is not the published one; check the URL, or place the file by hand:" >&2
  else
    echo "  This machine may have no network access to these hosts. Place the file by hand:" >&2
  fi
  cat >&2 <<EOF
    1. on a machine with network access, download it from one of:
$(printf '         %s\n' "${URLS[@]}")
    2. copy it to $DL/$name
       ($bytes bytes, $type $sum)
    3. run $ME again: it verifies the file and converts it.
EOF
}

need_strata() {
  if [ ! -x "$STRATA" ]; then
    err "$STRATA is not built: run 'make' first, then $ME again (the downloads are kept)"
    return 1
  fi
}

# newer OUT IN: 0 when OUT exists and is newer than IN (nothing to redo).
newer() { [ "$force" = 0 ] && [ -e "$1" ] && [ "$1" -nt "$2" ]; }

convert_vgg19() {
  local src=$DL/$1 out=weights/vgg19.h5
  if newer "$out" "$src"; then say "ok: $out is up to date"; return 0; fi
  need_strata || return 1
  say "converting $src -> $out"
  "$STRATA" weights import keras-vgg19 "$src" "$out" || { err "converting $src failed"; return 1; }
}

unzip_to() { # ZIP DIR
  rm -rf "$2.tmp" && mkdir -p "$2.tmp" || return 1
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$1" -d "$2.tmp" || return 1
  elif command -v python3 >/dev/null 2>&1; then
    python3 -m zipfile -e "$1" "$2.tmp" || return 1
  else
    err "neither unzip nor python3 is installed: cannot unpack $1"
    return 1
  fi
  rm -rf "$2" && mv "$2.tmp" "$2"
}

convert_fcrn() {
  local src=$DL/$1 dir=$DL/NYU_FCRN-checkpoint out=weights/fcrn.h5 index
  if newer "$out" "$src"; then say "ok: $out is up to date"; return 0; fi
  need_strata || return 1
  if ! newer "$dir" "$src" || [ -z "$(find "$dir" -name 'NYU_FCRN.ckpt.index' 2>/dev/null)" ]; then
    say "unpacking $src"
    unzip_to "$src" "$dir" || { err "unpacking $src failed"; return 1; }
  fi
  index=$(find "$dir" -name 'NYU_FCRN.ckpt.index' | head -n 1)
  if [ -z "$index" ]; then
    err "$src holds no NYU_FCRN.ckpt.index (contents: $(cd "$dir" && find . -type f | head -n 5 | tr '\n' ' '))"
    return 1
  fi
  say "converting ${index%.index} -> $out"
  "$STRATA" weights import fcrn "${index%.index}" "$out" || { err "converting ${index%.index} failed"; return 1; }
}

convert() { # NAME
  case "$1" in
    vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5) convert_vgg19 "$1" ;;
    NYU_FCRN-checkpoint.zip) convert_fcrn "$1" ;;
    *) return 0 ;; # reference and data files are used as they are
  esac
}

# ---- the manifest: name, urls (space-separated mirrors), bytes, type, sum, what

declare -a E_NAME E_URLS E_BYTES E_TYPE E_SUM E_WHAT
while IFS=$'\t' read -r n u b t s w; do
  case "$n" in ''|'#'*|name) continue ;; esac
  case "$b" in *[!0-9]*|'') err "$MANIFEST: entry '$n': bytes '$b' is not a number"; exit 2 ;; esac
  E_NAME+=("$n") E_URLS+=("$u") E_BYTES+=("$b") E_TYPE+=("$t") E_SUM+=("$s") E_WHAT+=("$w")
done <"$MANIFEST"

if [ "$list" = 1 ]; then
  for i in "${!E_NAME[@]}"; do printf '%-52s %14s  %s\n' "${E_NAME[$i]}" "${E_BYTES[$i]}" "${E_WHAT[$i]}"; done
  exit 0
fi

selected=()
if [ ${#names[@]} -gt 0 ]; then
  for n in "${names[@]}"; do
    found=
    for i in "${!E_NAME[@]}"; do [ "${E_NAME[$i]}" = "$n" ] && found=$i; done
    [ -n "$found" ] || { err "'$n' is not in $MANIFEST (see --list)"; exit 2; }
    selected+=("$found")
  done
else
  for i in "${!E_NAME[@]}"; do
    case "${E_WHAT[$i]}" in
      weights:*) selected+=("$i") ;;
      data:*) if [ "$want_data" = 1 ] || [ "$want_all" = 1 ]; then selected+=("$i"); fi ;;
      *) if [ "$want_all" = 1 ]; then selected+=("$i"); fi ;;
    esac
  done
fi

mkdir -p "$DL" || { err "cannot create $DL"; exit 1; }
failed=()
for i in "${selected[@]}"; do
  n=${E_NAME[$i]}
  if fetch "$n" "${E_URLS[$i]}" "${E_BYTES[$i]}" "${E_TYPE[$i]}" "${E_SUM[$i]}"; then
    [ "$convert" = 0 ] || convert "$n" || failed+=("$n (conversion)")
  else
    failed+=("$n")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  err "FAILED: ${failed[*]}"
  exit 1
fi
say "all done"
