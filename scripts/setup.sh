#!/usr/bin/env bash
# Makes this machine able to run mqtt-authd: installs (Debian packages, when missing) Redis,
# Mosquitto with its clients and mosquitto_passwd, and what the Mosquitto plugin builds with
# (compiler, the broker's plugin headers, libcurl and libcrypto headers); starts Redis on
# 127.0.0.1:6379 when nothing answers there.
#   scripts/setup.sh          what running the service and the plugin needs
#   scripts/setup.sh --test   that, plus what only the test suite uses: Chromium (the console's
#                             browser test), htpasswd (apache2-utils) and the argon2 CLI (hash
#                             test vectors), valgrind (the plugin's leak checks), docker-compose
#                             (optional: validates the compose files)
# Idempotent: a machine that has everything is left as it is. Needs root (or sudo) only when
# something must be installed.
set -euo pipefail

test_tools=false
for arg in "$@"; do
  case "$arg" in
    --test) test_tools=true ;;
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "setup: unknown option $arg (only --test)" >&2
      exit 2
      ;;
  esac
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
optional=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v mosquitto >/dev/null || missing+=(mosquitto)
command -v mosquitto_passwd >/dev/null || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null || missing+=(mosquitto-clients)
# The Mosquitto plugin (mosquitto/plugin, built by `npm start` and `npm test`): a C compiler,
# the broker's plugin headers, libcurl, libcrypto and cJSON headers.
command -v cc >/dev/null && command -v make >/dev/null || missing+=(build-essential)
[ -f /usr/include/mosquitto_broker.h ] || missing+=(mosquitto-dev)
[ -f /usr/include/mosquitto.h ] || missing+=(libmosquitto-dev)
[ -n "$(find /usr/include -path '*/curl/curl.h' -print -quit 2>/dev/null)" ] ||
  missing+=(libcurl4-openssl-dev) # /usr/include/<arch>/curl on Debian
[ -f /usr/include/openssl/hmac.h ] || missing+=(libssl-dev)
[ -f /usr/include/cjson/cJSON.h ] || missing+=(libcjson-dev) # the plugin decodes records with it
if $test_tools; then
  # Test vectors for imported hashes come from the real tools (test/support/legacy-hashes.ts).
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  command -v argon2 >/dev/null || missing+=(argon2)
  # The console's browser tests drive Debian's Chromium (playwright-core downloads no browser).
  command -v chromium >/dev/null || missing+=(chromium)
  # The plugin's tests run the broker under valgrind.
  command -v valgrind >/dev/null || missing+=(valgrind)
  # Only used to validate the compose files in the tests; optional.
  command -v docker-compose >/dev/null || optional+=(docker-compose)
fi

if [ ${#missing[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]:-} ${optional[*]:-}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    if [ ${#missing[@]} -gt 0 ]; then
      as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    if [ ${#optional[@]} -gt 0 ]; then
      as_root apt-get install -y -qq --no-install-recommends "${optional[@]}" ||
        echo "setup: docker-compose not installed; the compose validation test will skip"
    fi
  elif [ ${#missing[@]} -gt 0 ]; then
    echo "setup: please install: ${missing[*]} (no apt-get here)" >&2
    exit 1
  fi
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "setup: starting redis-server on 127.0.0.1:6379"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
echo "setup: redis $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') on 127.0.0.1:6379, $(mosquitto -h 2>/dev/null | head -1)"
