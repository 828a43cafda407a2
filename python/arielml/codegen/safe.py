"""The one way a foreign string (a model file name, a board name, a path) reaches
generated source. Model files are untrusted: their names and contents may hold newlines,
comment terminators, quotes or anything else, and nothing of that may become code.

Each function returns text that is inert where it is placed:
- `comment`: printable ASCII on one line, without `*/` or `/*`, capped in length; the rest
  is escaped as `\\u{..}`, so the reader still sees what the name was;
- `rust_str`: the body of a Rust "..." literal;
- `ident`: a Rust identifier;
- `toml_str`: the body of a TOML basic string ("...");
- `path_part`: one component of a path arielml makes up from a foreign name (a build
  directory), in [A-Za-z0-9._-].
"""

from __future__ import annotations

import re

COMMENT_MAX = 120
PATH_PART_MAX = 80

# Rust keywords (strict and reserved, all editions): not identifiers, whatever their letters.
RUST_KEYWORDS = frozenset("""
    as break const continue crate else enum extern false fn for if impl in let loop match mod
    move mut pub ref return self Self static struct super trait true type unsafe use where
    while async await dyn abstract become box do final macro override priv typeof unsized
    virtual yield try gen union
""".split())


def _scalar(ch: str) -> int:
    """The code point of `ch`, U+FFFD for a lone surrogate (from an undecodable file name),
    which neither a Rust nor a TOML escape may name."""
    n = ord(ch)
    return 0xFFFD if 0xD800 <= n <= 0xDFFF else n


def _escape(ch: str) -> str:
    return f"\\u{{{_scalar(ch):x}}}"


def comment(text: str, limit: int = COMMENT_MAX) -> str:
    """`text` safe inside a `//` (or `//!`, `///`) comment line or a `/* */` block."""
    out = []
    for ch in str(text):
        out.append(ch if " " <= ch <= "~" and ch != "\\" else ("\\\\" if ch == "\\" else _escape(ch)))
    s = "".join(out).replace("*/", "*\\/").replace("/*", "/\\*")
    if len(s) > limit:
        s = s[:limit - 3] + "..."
    return s


def _quoted_body(text: str, escape) -> str:
    """Printable ASCII kept, quotes and backslashes backslashed, the rest `escape(ch)`."""
    out = []
    for ch in str(text):
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(escape(ch))
    return "".join(out)


def rust_str(text: str) -> str:
    """`text` as the body of a Rust string literal (the caller writes the quotes)."""
    return _quoted_body(text, _escape)


def ident(text: str, prefix: str = "x") -> str:
    """A Rust identifier derived from `text`: [A-Za-z0-9_], never empty, never `_`, never
    starting with a digit (then `prefix` is put in front), never a keyword (then `_` is
    put after it)."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(text))
    if not s or s[0].isdigit() or s == "_":
        s = f"{prefix}_{s}"
    if s in RUST_KEYWORDS:
        s += "_"
    return s


def toml_str(text: str) -> str:
    """`text` as the body of a TOML basic string (the caller writes the quotes)."""
    return _quoted_body(text, lambda ch: f"\\U{_scalar(ch):08X}")


def path_part(text: str, fallback: str = "model", limit: int = PATH_PART_MAX) -> str:
    """One path component from `text`: [A-Za-z0-9._-] (the rest becomes `_`), not empty,
    not starting with `.` or `-`, capped in length."""
    s = re.sub(r"[^A-Za-z0-9._-]", "_", str(text))[:limit]
    if not s or s[0] in ".-":
        s = f"{fallback}{s}" if s.strip(".") else fallback
    return s
