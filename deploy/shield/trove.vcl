vcl 4.1;

# Trove's shield cache: one Varnish in front of the delivery role (see deploy/shield/start.sh and the
# README section "Shield cache"). Every cacheable delivery URL reaches Trove once per Accept class
# until it expires or is purged by tag.

import std;
import xkey;

# Written by start.sh from the environment: `backend trove`, `acl shield_purgers`, and the subs
# shield_cache_limits (TTL cap and grace), shield_not_found_ttl and shield_too_large.
include "shield-settings.vcl";

# Trove's `formatVariant` (src/services/transform/accept-variant.ts) is the only thing that makes
# a delivery answer depend on Accept, and it only asks "is image/avif accepted, else image/webp?".
include "accept-class.vcl";

sub vcl_recv {
    if (req.method == "PURGE") {
        call shield_purge;
    }
    if (req.url ~ "^/shield-health(?:\?.*)?$" && (req.method == "GET" || req.method == "HEAD")) {
        return (synth(200, "OK"));
    }
    # Uploads, REST calls and anything signed go to Trove untouched and are never cached.
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.http.Authorization) {
        return (pass);
    }
    # Delivery answers never depend on cookies or on tracking parameters: keeping either would
    # split one object into as many copies as there are visitors or campaigns.
    unset req.http.Cookie;
    call shield_clean_query;
    call shield_accept_class;
    return (hash);
}

sub vcl_hash {
    # The Host a client or CDN used does not change a delivery answer, so it is not in the key;
    # the Accept class is handled by Trove's `Vary: Accept` on format/auto answers.
    hash_data(req.url);
    return (lookup);
}

sub vcl_backend_response {
    if (bereq.uncacheable) {
        # A pass (not GET/HEAD, or Authorization): Trove's answer goes back as it is.
        return (deliver);
    }
    unset beresp.http.Set-Cookie;
    # 5xx, and 429 (Trove's miss budget for a project is spent): the origin cannot answer now.
    if (beresp.status >= 500 || beresp.status == 429) {
        if (bereq.is_bgfetch) {
            # The stale copy a client was just given stays until its grace runs out.
            return (abandon);
        }
        # No stale copy: the error goes to the client, and the next request tries Trove again
        # (no hit-for-miss object, so concurrent requests still wait for one fetch).
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    call shield_tag;
    if (beresp.status == 404 && beresp.http.Cache-Control !~ "(?i)(?:^|[,\s])(?:no-store|private)\b") {
        call shield_not_found_ttl;
        return (deliver);
    }
    if (beresp.status != 200 && beresp.status != 203 && beresp.status != 204
        && beresp.status != 300 && beresp.status != 301 && beresp.status != 308) {
        call shield_dont_cache;
        return (deliver);
    }
    # Cache only what Trove says is cacheable: an explicit lifetime and no refusal.
    if ((!beresp.http.Cache-Control && !beresp.http.Expires)
        || beresp.http.Cache-Control ~ "(?i)(?:^|[,\s])(?:no-store|no-cache|private)\b"
        || beresp.http.Surrogate-Control ~ "(?i)no-store"
        || beresp.http.Vary == "*"
        || beresp.ttl <= 0s) {
        call shield_dont_cache;
        return (deliver);
    }
    if (std.integer(beresp.http.Content-Length, 0) > 0) {
        call shield_too_large;
    }
    call shield_cache_limits;
    return (deliver);
}

sub shield_dont_cache {
    # Hit-for-miss: later requests fetch on their own for a while instead of waiting for each other.
    set beresp.uncacheable = true;
    set beresp.ttl = 30s;
    set beresp.grace = 0s;
}

# Tags for purges: Trove's own `Surrogate-Key` (p:<project> f:<uuid> v:<uuid>/<hash>-<variant>
# v:<uuid>/original). An answer without one (an origin that does not send it) is tagged f:<uuid>
# from the URL, so a file purge still finds it; with one, the same tag would be indexed twice.
sub shield_tag {
    if (beresp.http.Surrogate-Key) {
        std.collect(beresp.http.Surrogate-Key, " ");
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    }
    else if (bereq.url ~ "^/[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?:[/?]|$)") {
        set beresp.http.xkey = "f:" + std.tolower(regsub(bereq.url, "^/([^/?]+).*$", "\1"));
    }
}

sub vcl_backend_error {
    if (bereq.is_bgfetch) {
        return (abandon);
    }
    set beresp.http.Content-Type = "application/json";
    set beresp.http.Retry-After = "5";
    synthetic({"{"detail": "The origin behind the shield cache did not answer." }"});
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.xkey;
    if (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    set resp.http.X-Cache-Hits = obj.hits;
    return (deliver);
}

# Purge by tag. Contract: `PURGE <any path>` with `Xkey-Purge: <space-separated tags>` and
# optionally `Xkey-Soft: 1`, from an address in SHIELD_PURGE_ALLOW → 200 {"purged": N};
# another address → 403; no tags → 400.
sub shield_purge {
    if (client.ip !~ shield_purgers) {
        return (synth(403, "Forbidden"));
    }
    std.collect(req.http.Xkey-Purge, " ");
    if (req.http.Xkey-Purge !~ "[^\s,]") {
        return (synth(400, "Bad Request"));
    }
    if (req.http.Xkey-Soft == "1") {
        set req.http.X-Shield-Purged = xkey.softpurge(req.http.Xkey-Purge);
    } else {
        set req.http.X-Shield-Purged = xkey.purge(req.http.Xkey-Purge);
    }
    return (synth(200, "Purged"));
}

sub vcl_synth {
    if (req.method == "PURGE") {
        set resp.http.Content-Type = "application/json";
        if (resp.status == 200) {
            synthetic({"{"purged": "} + req.http.X-Shield-Purged + {"}"});
        } elsif (resp.status == 403) {
            synthetic({"{"detail": "This address may not purge the shield cache." }"});
        } else {
            synthetic({"{"detail": "Name the tags to purge in the Xkey-Purge header." }"});
        }
        return (deliver);
    }
    if (resp.status == 200) {
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        set resp.http.Cache-Control = "no-store";
        synthetic("ok");
        return (deliver);
    }
}

# Tracking parameters never change a delivery answer: they are removed (names matched without
# case), every other parameter is kept in its order, and a query left empty loses its `?` so
# Trove's fast lane sees a plain path.
sub shield_clean_query {
    if (req.url ~ "\?") {
        set req.http.X-Shield-Query = regsub(req.url, "^[^?]*\?", "&");
        set req.http.X-Shield-Query = regsuball(req.http.X-Shield-Query,
            "(?i)&(?:utm_[^&=]*|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_ga|_gl|yclid|igshid|twclid|ttclid|li_fat_id|_hsenc|_hsmi|mkt_tok|ref|ref_src|ref_url|referrer)(?:=[^&]*)?(?=&|$)",
            "");
        set req.http.X-Shield-Query = regsub(req.http.X-Shield-Query, "^&+", "");
        if (req.http.X-Shield-Query == "") {
            set req.url = regsub(req.url, "\?.*$", "");
        } else {
            set req.url = regsub(req.url, "\?.*$", "") + "?" + req.http.X-Shield-Query;
        }
        unset req.http.X-Shield-Query;
    }
}
