# Sourced by test.sh and bench.sh: the Python tools in .venv (scripts/requirements.txt)
# and a moto server on a free loopback port, pointed at with AWS_ENDPOINT_URL and dummy
# credentials, stopped when the sourcing script exits.

venv=.venv
if ! cmp -s scripts/requirements.txt "$venv/requirements.txt"; then
  echo "installing the Python tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements.txt
  cp scripts/requirements.txt "$venv/requirements.txt"
fi

moto_log=$(mktemp)
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" scripts/moto_server.py -H 127.0.0.1 -p "$port" >"$moto_log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -f "$moto_log"' EXIT
for _ in $(seq 100); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then echo "moto did not start:" >&2; cat "$moto_log" >&2; exit 1; fi
  sleep 0.2
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export SAM_CLI_TELEMETRY=0
echo "moto on $AWS_ENDPOINT_URL"
