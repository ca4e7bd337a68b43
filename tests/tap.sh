# Sourced by the shell tests (run from the repository root): a scratch
# folder $tmp removed on exit, `ok STATUS DESCRIPTION` for one TAP line
# (STATUS 0 passes), and `tap_end` to print the plan and exit.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0; fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
tap_end() {
  echo "1..$n"
  exit $fail
}
