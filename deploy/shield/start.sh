#!/usr/bin/env bash
# Starts Trove's shield cache (Varnish with the xkey vmod) in the foreground, in front of Trove's
# delivery role. VCL cannot read the environment, so this script writes the settings it needs into
# shield-settings.vcl beside Varnish's working directory, then runs `varnishd -F`.
# Variables (see the README section "Shield cache"):
#   TROVE_ORIGIN            host:port of Trove's delivery role                [127.0.0.1:3000]
#   SHIELD_LISTEN           address Varnish listens on (varnishd -a)          [:6081]
#   SHIELD_CACHE_SIZE       memory for cached objects (varnishd -s malloc,…)  [1G]
#   SHIELD_PURGE_ALLOW      comma-separated addresses/CIDRs allowed to PURGE  [127.0.0.1/32,::1/128]
#   SHIELD_MAX_TTL          longest time an object is kept fresh              [1d]
#   SHIELD_GRACE            how long a stale object may still be served       [6h]
#   SHIELD_NOT_FOUND_TTL    how long a 404 is cached (0s: never)              [10s]
#   SHIELD_MAX_OBJECT_SIZE  larger answers are passed through, not cached     [64M]
#   SHIELD_ORIGIN_TIMEOUT   time Trove has for the first byte of an answer    [60s]
#   SHIELD_WORK_DIR         working directory (varnishd -n and the settings)  [/var/lib/trove-shield]
#   SHIELD_VARNISHD         the varnishd to run                               [varnishd on PATH]
#   SHIELD_VMOD_PATH        colon-separated folders holding the vmods         [Debian's and the usual ones]
# Further arguments go to varnishd unchanged (for example `-p thread_pool_max=2000`).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

fail() {
  echo "trove shield: $*" >&2
  exit 1
}

origin=${TROVE_ORIGIN:-127.0.0.1:3000}
listen=${SHIELD_LISTEN:-:6081}
cache_size=${SHIELD_CACHE_SIZE:-1G}
purge_allow=${SHIELD_PURGE_ALLOW:-127.0.0.1/32,::1/128}
max_ttl=${SHIELD_MAX_TTL:-1d}
grace=${SHIELD_GRACE:-6h}
not_found_ttl=${SHIELD_NOT_FOUND_TTL:-10s}
max_object_size=${SHIELD_MAX_OBJECT_SIZE:-64M}
origin_timeout=${SHIELD_ORIGIN_TIMEOUT:-60s}
work_dir=${SHIELD_WORK_DIR:-/var/lib/trove-shield}

duration() { # NAME VALUE: a VCL duration such as 30s, 10m, 6h, 1d, 2w
  [[ "$2" =~ ^[0-9]+(\.[0-9]+)?(ms|s|m|h|d|w|y)$ ]] || fail "$1=$2 is not a duration (a number and one of ms, s, m, h, d, w, y: 30s, 6h, 1d)"
  echo "$2"
}

bytes() { # NAME VALUE: a byte count with an optional K, M or G suffix (powers of 1024)
  [[ "$2" =~ ^([0-9]+)([KkMmGg]?)$ ]] || fail "$1=$2 is not a size (a whole number with an optional K, M or G: 64M)"
  local n=${BASH_REMATCH[1]}
  case "${BASH_REMATCH[2]}" in
    K | k) n=$((n * 1024)) ;;
    M | m) n=$((n * 1024 * 1024)) ;;
    G | g) n=$((n * 1024 * 1024 * 1024)) ;;
  esac
  echo "$n"
}

max_ttl=$(duration SHIELD_MAX_TTL "$max_ttl")
grace=$(duration SHIELD_GRACE "$grace")
not_found_ttl=$(duration SHIELD_NOT_FOUND_TTL "$not_found_ttl")
origin_timeout=$(duration SHIELD_ORIGIN_TIMEOUT "$origin_timeout")
max_object_size=$(bytes SHIELD_MAX_OBJECT_SIZE "$max_object_size")
[[ "$cache_size" =~ ^[0-9]+[KkMmGgTt]?$ ]] || fail "SHIELD_CACHE_SIZE=$cache_size is not a size (a whole number with an optional K, M, G or T: 1G)"

# host:port, or [v6-address]:port
if [[ "$origin" =~ ^\[([0-9A-Fa-f:.]+)\]:([0-9]{1,5})$ ]] || [[ "$origin" =~ ^([A-Za-z0-9.-]+):([0-9]{1,5})$ ]]; then
  origin_host=${BASH_REMATCH[1]}
  origin_port=${BASH_REMATCH[2]}
else
  fail "TROVE_ORIGIN=$origin is not host:port (for example 127.0.0.1:3000 or [::1]:3000)"
fi

acl_entries=""
IFS=',' read -r -a allow_list <<<"$purge_allow"
for entry in "${allow_list[@]}"; do
  entry=${entry// /}
  [ -n "$entry" ] || continue
  if [[ "$entry" =~ ^([0-9A-Fa-f:.]+)/([0-9]{1,3})$ ]]; then
    acl_entries+="    \"${BASH_REMATCH[1]}\"/${BASH_REMATCH[2]};"$'\n'
  elif [[ "$entry" =~ ^[0-9A-Fa-f:.]+$ ]]; then
    acl_entries+="    \"${entry}\";"$'\n'
  else
    fail "SHIELD_PURGE_ALLOW entry '$entry' is not an IP address or CIDR (for example 10.0.0.0/8)"
  fi
done
[ -n "$acl_entries" ] || fail "SHIELD_PURGE_ALLOW is empty: name at least one address that may purge"

# Run as root, varnishd drops to its own unprivileged users (jail "unix") to compile the VCL and to
# run the cache, and they must reach the working directory.
if [ "$(id -u)" = 0 ]; then
  ancestor=$(dirname "$work_dir")
  while [ "$ancestor" != / ] && [ "$ancestor" != . ]; do
    if [ -d "$ancestor" ] && [ $(( $(stat -c %a "$ancestor") % 2 )) -eq 0 ]; then
      fail "SHIELD_WORK_DIR=$work_dir is not reachable by Varnish's unprivileged users: $ancestor may not be entered by others (chmod o+x $ancestor, or choose another folder)"
    fi
    ancestor=$(dirname "$ancestor")
  done
fi

varnishd_bin=${SHIELD_VARNISHD:-$(command -v varnishd || echo /usr/sbin/varnishd)}
[ -x "$varnishd_bin" ] || fail "varnishd was not found (looked at ${varnishd_bin}). Install Varnish 7: apt-get install varnish varnish-modules"

# The xkey vmod (tags and purges) comes from varnish-modules.
vmod_dirs=${SHIELD_VMOD_PATH:-$(printf '%s:' /usr/lib/*/varnish/vmods /usr/lib/varnish/vmods /usr/lib64/varnish/vmods /usr/local/lib/varnish/vmods)}
xkey_found=""
vmod_path=""
IFS=':' read -r -a vmod_dir_list <<<"$vmod_dirs"
for dir in "${vmod_dir_list[@]}"; do
  [ -n "$dir" ] && [ -d "$dir" ] || continue
  vmod_path+="${vmod_path:+:}$dir"
  if [ -f "$dir/libvmod_xkey.so" ]; then xkey_found="$dir"; fi
done
[ -n "$xkey_found" ] || fail "the xkey vmod (libvmod_xkey.so) was not found in ${vmod_dirs%:}. Install it: apt-get install varnish-modules (or set SHIELD_VMOD_PATH)"
command -v cc >/dev/null || fail "no C compiler (cc): varnishd compiles the VCL with it. Install one: apt-get install gcc"

vcl_dir="$work_dir/vcl"
mkdir -p "$vcl_dir"
chmod 755 "$work_dir" "$vcl_dir"
cat >"$vcl_dir/shield-settings.vcl" <<VCL
# Written by deploy/shield/start.sh from the environment; edits are lost at the next start.

backend trove {
    .host = "${origin_host}";
    .port = "${origin_port}";
    .connect_timeout = 2s;
    .first_byte_timeout = ${origin_timeout};
    .between_bytes_timeout = ${origin_timeout};
}

acl shield_purgers {
${acl_entries}}

sub shield_cache_limits {
    if (beresp.ttl > ${max_ttl}) {
        set beresp.ttl = ${max_ttl};
    }
    set beresp.grace = ${grace};
}

sub shield_not_found_ttl {
    if (${not_found_ttl} > 0s) {
        set beresp.ttl = ${not_found_ttl};
        set beresp.grace = 0s;
    } else {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
    }
}

sub shield_too_large {
    if (std.integer(beresp.http.Content-Length, 0) > ${max_object_size}) {
        # Streamed through; later requests (and their Range headers) go straight to Trove for a while.
        return (pass(60s));
    }
}
VCL
chmod 644 "$vcl_dir/shield-settings.vcl"

echo "trove shield: listening on ${listen}, origin ${origin_host}:${origin_port}, cache ${cache_size}, max TTL ${max_ttl}, grace ${grace}" >&2
exec "$varnishd_bin" -F \
  -n "$work_dir/varnish" \
  -a "$listen" \
  -f "$here/trove.vcl" \
  -s "malloc,${cache_size}" \
  -p "vcl_path=${vcl_dir}:${here}" \
  -p "vmod_path=${vmod_path}" \
  "$@"
