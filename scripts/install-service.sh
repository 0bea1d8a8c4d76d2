#!/usr/bin/env bash
# Installs edge-pothole as a systemd service on a vehicle, from a built checkout
# (`npm ci && npm run build` first):
#   the app      -> /opt/edge-pothole (replaced as a whole on each run)
#   the config   -> /etc/edge-pothole/config.json (written once; never overwritten)
#   the password -> /etc/edge-pothole/mqtt_password (empty, root-only; never overwritten)
#   the user     -> edge-pothole (system user, member of video)
#   the unit     -> /etc/systemd/system/edge-pothole.service, enabled
# Safe to run again (an update): the app and the unit are replaced, config and secrets kept.
#
# Options:
#   --root DIR    install under DIR instead of / (packaging, tests); no user is created and
#                 systemctl is not called
#   --skip-user   do not create the edge-pothole user
#   --start       (re)start the service after installing
#   --link        hard-link the app's files instead of copying them (same filesystem only:
#                 packaging and tests; node_modules alone is several hundred MB)
set -euo pipefail

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
}

ROOT=''
SKIP_USER=false
START=false
LINK=false
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
    --skip-user) SKIP_USER=true; shift ;;
    --start) START=true; shift ;;
    --link) LINK=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-service.sh: unknown option $1" >&2; usage >&2; exit 64 ;;
  esac
done

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP="$ROOT/opt/edge-pothole"
ETC="$ROOT/etc/edge-pothole"
UNIT_DIR="$ROOT/etc/systemd/system"
SYSTEM_ROOT=false
if [ -z "$ROOT" ] || [ "$(cd "$ROOT" && pwd)" = / ]; then SYSTEM_ROOT=true; fi

step() { printf '==> %s\n' "$*"; }

# copy_tree FROM TO: hard links with --link when FROM and TO share a filesystem, else a copy.
copy_tree() {
  if $LINK && cp -al "$1" "$2" 2>/dev/null; then return 0; fi
  rm -rf "$2"
  cp -a "$1" "$2"
}

if [ ! -f "$SRC/dist/src/cli/main.js" ]; then
  echo "install-service.sh: $SRC is not built; run 'npm ci && npm run build' first" >&2
  exit 1
fi

step "app -> $APP"
# Staged beside the old copy and swapped in, so a failed copy leaves the old app working.
mkdir -p "$(dirname "$APP")"
STAGE="$APP.new.$$"
rm -rf "$STAGE"
mkdir -p "$STAGE/dist"
cp -a "$SRC/bin" "$SRC/models" "$SRC/package.json" "$SRC/package-lock.json" "$STAGE/"
copy_tree "$SRC/dist/src" "$STAGE/dist/src"
copy_tree "$SRC/node_modules" "$STAGE/node_modules"
if [ -d "$SRC/docs" ]; then cp -a "$SRC/docs" "$STAGE/docs"; fi
chmod -R u=rwX,go=rX "$STAGE/bin" "$STAGE/models"
if [ -d "$APP" ]; then mv "$APP" "$APP.old.$$"; fi
mv "$STAGE" "$APP"
rm -rf "$APP.old.$$"

step "config -> $ETC"
install -d -m 0755 "$ETC"
if [ ! -f "$ETC/config.json" ]; then
  cat > "$ETC/config.json" <<'JSON'
{
  "source": { "spec": "v4l2:/dev/video0", "fps": 5 },
  "model": "/opt/edge-pothole/models/pothole",
  "mqtt": { "url": "mqtt://127.0.0.1:1883" }
}
JSON
  chmod 0644 "$ETC/config.json"
  echo "wrote $ETC/config.json: set source.spec, mqtt.url and vehicle_id for this vehicle"
else
  echo "kept $ETC/config.json"
fi
if [ ! -f "$ETC/mqtt_password" ]; then
  # Empty = no password. systemd hands it to the service as a credential (LoadCredential=).
  install -m 0600 /dev/null "$ETC/mqtt_password"
fi

if $SYSTEM_ROOT && ! $SKIP_USER; then
  step "user edge-pothole"
  if id edge-pothole >/dev/null 2>&1; then
    usermod --append --groups video edge-pothole 2>/dev/null || true
    echo "kept user edge-pothole"
  else
    getent group video >/dev/null || groupadd --system video
    useradd --system --user-group --groups video --home-dir /var/lib/edge-pothole \
      --no-create-home --shell /usr/sbin/nologin edge-pothole
  fi
fi

step "unit -> $UNIT_DIR/edge-pothole.service"
install -d -m 0755 "$UNIT_DIR"
install -m 0644 "$SRC/systemd/edge-pothole.service" "$UNIT_DIR/edge-pothole.service"

for tool in /usr/bin/node ffmpeg systemd-notify; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "warning: $tool not found; the service needs it (see docs/daemon.md)" >&2
  fi
done

if $SYSTEM_ROOT && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  step "systemctl daemon-reload && systemctl enable edge-pothole"
  systemctl daemon-reload
  systemctl enable edge-pothole.service
  if $START; then systemctl restart edge-pothole.service; fi
else
  echo "systemd is not running here (or --root was given): enable the unit on the vehicle"
fi
echo "done"
