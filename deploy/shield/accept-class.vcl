# Accept, reduced to the format class Trove negotiates for `-/format/auto/`.
#
# This mirrors `formatVariant` in src/services/transform/accept-variant.ts exactly:
# - the header is split on ","; in each part, the media type is the text before the first ";",
#   trimmed and compared without case;
# - only the FIRST part naming image/avif (or image/webp) counts;
# - in that part, the first parameter that starts with "q=" (after trimming) decides: the type is
#   accepted when there is none, or when JavaScript's Number() of the rest is above 0 (so "q=0",
#   "q=", "q=-1", "q=abc" and "q=Infinity" refuse it; "q=0.001", "q=1e3" and "q=0x1" accept it);
# - wildcards (image/*, */*) never stand for AVIF or WebP.
# AVIF-capable → "image/avif,image/webp", else WebP-capable → "image/webp", else "*/*".
# Trove then sees one Accept value per class, and `Vary: Accept` keeps at most three objects.
#
# Whitespace is what JavaScript's trim() removes from a header Node decodes as Latin-1: tab, LF,
# VT, FF, CR, space and the no-break space (byte 0xA0). The one known difference: a q-value so
# small that Number() underflows to 0 (below about 1e-324, e.g. "q=1e-400") counts as accepted
# here, which can only give such a client the format it named.

sub shield_accept_class {
    std.collect(req.http.Accept, ", ");
    if (req.http.Accept ~ "(?i)^(?:[^,]*,)*?[\t\n\x0b\x0c\r \xa0]*image/avif[\t\n\x0b\x0c\r \xa0]*(?:[;,]|$)") {
        set req.http.X-Shield-Params = regsub(req.http.Accept,
            "(?is)^(?:[^,]*,)*?[\t\n\x0b\x0c\r \xa0]*image/avif[\t\n\x0b\x0c\r \xa0]*(;[^,]*)?(?:,.*)?$", "\1");
        call shield_accepted_by_params;
        if (req.http.X-Shield-Accepted) {
            set req.http.Accept = "image/avif,image/webp";
            unset req.http.X-Shield-Accepted;
            return;
        }
    }
    if (req.http.Accept ~ "(?i)^(?:[^,]*,)*?[\t\n\x0b\x0c\r \xa0]*image/webp[\t\n\x0b\x0c\r \xa0]*(?:[;,]|$)") {
        set req.http.X-Shield-Params = regsub(req.http.Accept,
            "(?is)^(?:[^,]*,)*?[\t\n\x0b\x0c\r \xa0]*image/webp[\t\n\x0b\x0c\r \xa0]*(;[^,]*)?(?:,.*)?$", "\1");
        call shield_accepted_by_params;
        if (req.http.X-Shield-Accepted) {
            set req.http.Accept = "image/webp";
            unset req.http.X-Shield-Accepted;
            return;
        }
    }
    set req.http.Accept = "*/*";
}

# X-Shield-Params holds the parameters of the part that named the type (";q=0.8;x=y", or empty).
# Sets X-Shield-Accepted when that part does not refuse the type.
sub shield_accepted_by_params {
    unset req.http.X-Shield-Accepted;
    if (req.http.X-Shield-Params ~ "(?i)^(?:;[^;]*)*?;[\t\n\x0b\x0c\r \xa0]*q=") {
        set req.http.X-Shield-Params = regsub(req.http.X-Shield-Params,
            "(?is)^(?:;[^;]*)*?;[\t\n\x0b\x0c\r \xa0]*q=([^;]*).*$", "\1");
        # Number(value) > 0: a positive decimal (optional "+", a non-zero digit before any
        # exponent), or a hexadecimal, octal or binary literal that is not zero.
        if (req.http.X-Shield-Params ~ "(?i)^[\t\n\x0b\x0c\r \xa0]*(?:\+?(?=[0-9.]*[1-9])(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?|0x[0-9a-f]*[1-9a-f][0-9a-f]*|0o[0-7]*[1-7][0-7]*|0b[01]*1[01]*)[\t\n\x0b\x0c\r \xa0]*$") {
            set req.http.X-Shield-Accepted = "1";
        }
    } else {
        set req.http.X-Shield-Accepted = "1";
    }
    unset req.http.X-Shield-Params;
}
