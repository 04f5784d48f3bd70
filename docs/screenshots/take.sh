#!/usr/bin/env bash
# The README's screenshots: the demo archive's pages as Chromium draws them (`make screenshots`).
# Needs Debian's chromium and a CJK font: apt-get install chromium fonts-wqy-microhei
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.venv/bin}
CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
OUT=docs/screenshots
work=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$BIN/chanarchive" --db "$work/demo.db" demo >/dev/null
port=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN/chanarchive" --db "$work/demo.db" serve --port "$port" 2>/dev/null &
server=$!
"$BIN/python" - "$port" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/-/versions.json"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for _ in range(150):
    try:
        opener.open(url, timeout=1).read()
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the server did not start")
PY

shot() {  # shot NAME HEIGHT PATH
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$work/profile" \
        --window-size="1100,$2" --screenshot="$PWD/$OUT/$1" "http://127.0.0.1:$port$3" 2>/dev/null
    echo "$OUT/$1"
}
shot home.png 760 /
shot channel.png 1000 /-/channel/chanarchive_demo
shot post.png 820 /-/post/chanarchive_demo/43
snapshot=$("$BIN/python" - "$work/demo.db" <<'PY'
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(conn.execute(
    "SELECT v.snapshot FROM post_versions v JOIN posts p ON p.id = v.post"
    " WHERE p.post_id = '43' AND v.version = p.current_version"
).fetchone()[0])
PY
)
shot capture.png 900 "/-/capture/$snapshot"
shot search.png 700 "/-/search?q=%E5%9C%B0%E9%93%81"
