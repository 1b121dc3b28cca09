# t/tap.sh - TAP helpers for shell tests: source it, call ok/skip_all,
# end with done_testing. $MOESCOPE is the binary, $FIXTURES the data.
tap_n=0
ok() {	# ok STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"
	else echo "not ok $tap_n - $2"; fi
}
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
done_testing() { echo "1..$tap_n"; exit 0; }
have_fixtures() { [ -n "${FIXTURES-}" ] && [ -d "$FIXTURES/models" ]; }
