# Shared by scripts/test.sh and scripts/servers.sh; source it, don't run it.
# Expects `set -euo pipefail` and the working directory at the module root.

# Where project-local tools go (gitignored): staticcheck, the testservers helper.
TOOLS_BIN="$PWD/.tools/bin"

log() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# now_ms prints the wall clock in milliseconds (bash 5's EPOCHREALTIME, so no
# dependence on date +%N or bc).
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# step NAME CMD...: runs CMD under a heading and prints how long it took. A
# failing CMD ends the script through errexit; CURRENT_STEP lets the EXIT trap
# say which step it was.
CURRENT_STEP=""
step() {
	CURRENT_STEP=$1
	shift
	log "$CURRENT_STEP"
	local t0
	t0=$(now_ms)
	"$@"
	local ms=$(($(now_ms) - t0))
	printf '    [%s: %d.%03ds]\n' "$CURRENT_STEP" $((ms / 1000)) $((ms % 1000)) >&2
	CURRENT_STEP=""
}

# need_servers_from_npm is true unless both endpoint variables point at
# servers that are already running.
need_servers_from_npm() {
	[[ -z ${AWS_ENDPOINT_URL_DYNAMODB:-} || -z ${AWS_ENDPOINT_URL_SQS:-} ]]
}

# check_tools fails with instructions if a tool the run needs is missing.
check_tools() {
	local hint="Or point the tests at servers you run yourself: export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:PORT and AWS_ENDPOINT_URL_SQS=http://127.0.0.1:PORT (then java and node are not needed)."
	command -v go >/dev/null ||
		die "go not found on PATH. Install Go $(sed -n 's/^go //p' go.mod) or newer and put its bin directory on PATH."
	log "$(go version)"
	command -v node >/dev/null && command -v npm >/dev/null ||
		die "node/npm not found on PATH; they install the OpenAPI linter and the test servers (npm ci). Install Node.js 20.19+ with npm (Debian: apt-get install nodejs npm). $hint"
	log "node $(node --version), npm $(npm --version)"
	if [[ -z ${AWS_ENDPOINT_URL_DYNAMODB:-} ]]; then
		command -v java >/dev/null ||
			die "java not found on PATH; DynamoDB Local needs Java 17+ (Debian: apt-get install openjdk-17-jre-headless). $hint"
		log "$(java -version 2>&1 | head -n1)"
	fi
}

# ensure_node_modules runs `npm ci` when node_modules is missing or was
# installed from a different package-lock.json (a hash of it is kept in
# node_modules). --ignore-scripts: these packages need no install scripts,
# and nothing may download from outside the npm registry.
ensure_node_modules() {
	local stamp=node_modules/.installed-from-lock.sha256
	local want
	want=$(sha256sum package.json package-lock.json)
	if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
		log "node_modules is up to date with package-lock.json"
		return
	fi
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	printf '%s\n' "$want" >"$stamp"
}

# build_testservers builds the helper that starts both servers
# (internal/cmd/testservers, which uses internal/testenv).
build_testservers() {
	go build -o "$TOOLS_BIN/testservers" ./internal/cmd/testservers
}
