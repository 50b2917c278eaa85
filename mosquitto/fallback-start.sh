#!/bin/sh
# Command of the mosquitto-fallback container (eclipse-mosquitto:2, whose
# entrypoint runs it as root). Prepares the shared export volume, then becomes
# the broker: after `exec` the pid that mosquitto writes to pid_file, and that
# mqtt-authd signals, is the one docker's init (tini) watches.
# Tested by test/deploy/compose.test.ts with a real mosquitto.
set -eu

EXPORT_DIR="${EXPORT_DIR:-/export}"
# Same meaning and values as the service's EXPORT_OWNER / EXPORT_FILE_MODE.
EXPORT_OWNER="${EXPORT_OWNER:-1883:1883}"
EXPORT_FILE_MODE="${EXPORT_FILE_MODE:-0640}"

# mqtt-authd (running as that uid) replaces the files by rename inside this
# directory, and mosquitto writes pid_file there after dropping to its user:
# both need to own it. A new named volume belongs to root.
chown "$EXPORT_OWNER" "$EXPORT_DIR"
chmod 0750 "$EXPORT_DIR"

# mosquitto 2.0 exits (code 13) when password_file cannot be opened. Empty files
# let it start and refuse every login until the service's first export and
# SIGHUP; existing files (the last export) are kept, that is the fallback.
for f in passwd acl; do
  if [ ! -e "$EXPORT_DIR/$f" ]; then
    : >"$EXPORT_DIR/$f"
    chown "$EXPORT_OWNER" "$EXPORT_DIR/$f"
    chmod "$EXPORT_FILE_MODE" "$EXPORT_DIR/$f"
  fi
done

# A pid file left by a killed broker could name another process of the shared
# PID namespace (mqtt-authd itself) until mosquitto writes its own.
rm -f "$EXPORT_DIR/mosquitto.pid"

exec "${MOSQUITTO:-/usr/sbin/mosquitto}" -c "${MOSQUITTO_CONF:-/mosquitto/config/mosquitto.conf}"
