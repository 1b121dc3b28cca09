# t/tui-lib.sh - drive the real moescope binary in a detached tmux server
# for the TUI tests (t/8NN-tui-*.sh): source it after t/tap.sh.
#
#   tui_start W H [ENV=VAL ...] -- ARGS   start `moescope ARGS` in a
#                          shell in a W x H pane; the shell prints
#                          "EXIT=<status>" and the terminal modes after
#                          moescope ends, then waits
#   tui_keys KEYS...       tmux send-keys (key names: Enter C-c F3 ...)
#   tui_type TEXT          send TEXT literally
#   tui_cap                the screen as text
#   tui_wait PATTERN [S]   wait until the screen matches the extended
#                          regex PATTERN (default 60 s); 1 on timeout,
#                          after printing the screen as diagnostics
#   tui_resize W H         resize the window
#
# Each test has its own tmux socket; the server is killed on exit. Waits
# poll every 0.1 s with a deadline, so a loaded machine only slows them.

command -v tmux >/dev/null 2>&1 || skip_all "tmux not installed"
have_fixtures || skip_all "no fixtures"
[ -x "$MOESCOPE" ] || skip_all "no moescope binary"

TUI_SOCK="moescope-test-$$-$(basename "$0" .sh)"
TUI_TMP=$(mktemp -d "${TMPDIR:-/tmp}/moescope-tui.XXXXXX")
tui_tmux() { tmux -u -L "$TUI_SOCK" -f /dev/null "$@"; }
tui_cleanup() {
	tui_tmux kill-server >/dev/null 2>&1
	tui_reap
	rm -rf "$TUI_TMP"
}
# a moescope that outlived its terminal is a bug: say so, then end it
tui_reap() {
	[ -s "$TUI_TMP/pid" ] || return 0
	p=$(cat "$TUI_TMP/pid")
	i=0
	while [ $i -lt 50 ]; do		# up to 5 s; a zombie has exited
		case "$(ps -o stat= -p "$p" 2>/dev/null)" in
		''|Z*) break ;;
		esac
		sleep 0.1
		i=$((i + 1))
	done
	if [ $i -ge 50 ]; then
		echo "# moescope (pid $p) still running after its terminal closed"
		kill "$p" 2>/dev/null
		rm -f "$TUI_TMP/pid"
		return 1
	fi
	rm -f "$TUI_TMP/pid"
}
trap tui_cleanup EXIT INT TERM

TUI_UTF8=C.UTF-8
locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$' || TUI_UTF8=en_US.UTF-8

tui_start() {
	w=$1 h=$2
	shift 2
	envs=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		envs="$envs $1"
		shift
	done
	[ "${1-}" = "--" ] && shift
	args=""
	for a in "$@"; do
		args="$args '$a'"
	done
	cat >"$TUI_TMP/run.sh" <<EOF
export LC_ALL=$TUI_UTF8 MOESCOPE_HOME='$TUI_TMP/home' $envs
sh -c 'echo \$\$ >"$TUI_TMP/pid"; exec "\$0" "\$@"' '$MOESCOPE' $args \
    2>'$TUI_TMP/stderr'
echo "EXIT=\$?"
stty -a | tr ' ;' '\n\n' | grep -E '^-?(echo|icanon|isig)$' | tr '\n' ' '
echo
exec sleep 600
EOF
	tui_tmux new-session -d -x "$w" -y "$h" \
	    "env TERM=tmux-256color sh '$TUI_TMP/run.sh'"
	tui_tmux set-option -g window-size manual >/dev/null 2>&1
}

tui_keys() { tui_tmux send-keys "$@"; }
tui_type() { tui_tmux send-keys -l "$1"; }
tui_cap() { tui_tmux capture-pane -p; }
tui_resize() { tui_tmux resize-window -x "$1" -y "$2"; }
tui_fmt() { tui_tmux display-message -p "$1"; }

# The screen as TAP diagnostics, each line behind "  |".
tui_dump() {
	tui_cap | sed 's/^/  |/' | while IFS= read -r l; do
		diag "$l"
	done
}

tui_wait() {
	pat=$1
	deadline=$(( $(date +%s) + ${2:-60} ))
	while :; do
		if tui_cap | grep -Eq -- "$pat"; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			diag "timed out waiting for /$pat/; the screen:"
			tui_dump
			return 1
		fi
		sleep 0.1
	done
}

# Wait until PATTERN no longer matches anywhere on the screen.
tui_wait_gone() {
	deadline=$(( $(date +%s) + ${2:-10} ))
	while tui_cap | grep -Eq -- "$1"; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			diag "still on screen after ${2:-10} s: /$1/"
			return 1
		fi
		sleep 0.1
	done
}

# Wait until PATTERN matches on at least N lines of the screen.
tui_wait_n() {
	pat=$1 n=$2
	deadline=$(( $(date +%s) + ${3:-60} ))
	while [ "$(tui_cap | grep -Ec -- "$pat")" -lt "$n" ]; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			diag "timed out waiting for $n x /$pat/"
			tui_dump
			return 1
		fi
		sleep 0.1
	done
}

# After EXIT=: the shell's terminal modes are sane again.
tui_modes_ok() {
	tui_wait '(^| )-?icanon( |$)' 10 || return 1
	m=$(tui_cap | grep -E '(^| )-?icanon( |$)' | tail -1)
	case " $m " in
	*" -echo "*|*" -icanon "*|*" -isig "*) return 1 ;;
	*" echo "*) case " $m " in *" icanon "*) return 0 ;; esac ;;
	esac
	return 1
}

# The screen is consistent with itself: a full repaint (Ctrl-L) changes
# nothing, so no stale cells were left behind.
# (Memory figures are masked: they may change between the captures.)
tui_clean() {
	# first let the panels settle (rates are sampled twice a second)
	i=0 prev=
	while [ $i -lt 30 ]; do
		cur=$(tui_cap)
		[ "$cur" = "$prev" ] && break
		prev=$cur
		sleep 1.2
		i=$((i + 1))
	done
	before=$(tui_cap | sed -E 's/mem [0-9.]+[KMGTB]*/mem X/')
	tui_keys C-l
	sleep 0.3
	after=$(tui_cap | sed -E 's/mem [0-9.]+[KMGTB]*/mem X/')
	[ "$before" = "$after" ] && return 0
	diag "before:" "$before" "after:" "$after"
	return 1
}

# Every line fits in W columns.
tui_fits() {
	[ "$(tui_cap | LC_ALL=$TUI_UTF8 wc -L)" -le "$1" ]
}

MIXTRAL="$FIXTURES/models/mixtral/mixtral-q8_0.gguf"
QWEN3="$FIXTURES/models/qwen3moe/qwen3moe-q8_0.gguf"
MIXTRAL_IDS=1,415,526,681,287,671,1447,285,1142,461,383,782,754,272,543,1498,1460,281,476,1459
