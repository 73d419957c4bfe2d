"""Pictures of the lab as SVG text: who talked to whom, and what was stolen.

Everything here is a pure function of plain data and returns a `str`, so the
pictures can be tested without a browser and saved in a notebook, where
GitHub and nbviewer show them even though they cannot show widgets. Every
picture has a text twin that says the same, and no picture tells anything by
colour alone: each mark carries a word and, where it helps, a line style.
"""

from dataclasses import dataclass
from html import escape
from http import HTTPStatus
from urllib.parse import urlsplit

from .report import rewrite_words

# How a request travelled, and so what the attacker could make of it.
READ = "read"  # plain HTTP through the attacker: it reads and rewrites it
TUNNEL = "tunnel"  # HTTPS through the attacker: an encrypted tunnel
DIRECT = "direct"  # no attacker on the path
UPGRADE = "upgrade"  # the browser itself moved to https://, nothing was sent

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
INK, MUTED, LINE = "#1f1f1f", "#5f6368", "#9aa0a6"
DANGER, DANGER_BG = "#a50e0e", "#fce8e6"
SAFE, SAFE_BG = "#0d652d", "#e6f4ea"
REWROTE = "#681da8"


@dataclass(frozen=True)
class Exchange:
    """One request and its response, and what the attacker made of it."""

    method: str
    url: str
    status: int
    path: str
    stolen: frozenset = frozenset()
    seen: tuple = ()
    rewrites: tuple = ()
    upstream: str = "https"
    note: str = ""

    @property
    def upstream_url(self):
        """The URL the attacker asked the bank for (its own HTTPS, usually)."""
        return urlsplit(self.url)._replace(scheme=self.upstream).geturl()


# --- From pages and attacker events to exchanges -------------------------


def exchanges(pages, events=(), via_attacker=True, method=None):
    """The exchanges behind `pages`, matched with the attacker's `events`.

    `pages` are what the victim browser returned (each with its redirect
    hops), in the order they were loaded; `events` what the attacker
    recorded meanwhile. `method` is the first request's method when a page
    came without redirects (a form's POST); by default it is read from the
    attacker's record, or taken to be GET.
    """
    events = list(events)
    cursor = 0
    found = []
    for page in pages:
        for request in _requests(page, method):
            exchange, cursor = _exchange(request, events, cursor, via_attacker)
            found.append(exchange)
    return found


def _requests(page, method):
    """(method, url, status, note) for each step a page took, in order."""
    steps = []
    for hop in page.hops:
        steps.append((hop.method, hop.url, hop.status, hop.note))
        # A hop with a note is the browser's own step (an HSTS upgrade); it
        # keeps the method. Fetch 4.4 turns some redirected requests into GET.
        method = hop.method if hop.note else _after_redirect(hop.method, hop.status)
    steps.append((method, page.url, page.status, ""))
    return steps


def _after_redirect(method, status):
    """The method a browser uses after a redirect with `status` (Fetch 4.4)."""
    if (status == 303 and method != "HEAD") or (
        status in (301, 302) and method == "POST"
    ):
        return "GET"
    return method


def _exchange(request, events, cursor, via_attacker):
    """One request as an Exchange, and where to look for the next event."""
    method, url, status, note = request
    if note:
        return Exchange(method or "GET", url, status, UPGRADE, note=note), cursor
    if not via_attacker:
        return Exchange(method or "GET", url, status, DIRECT), cursor
    if urlsplit(url).scheme == "https":
        index = _find(events, cursor, lambda e: e.kind == "tunnel")
        return Exchange(method or "GET", url, status, TUNNEL), _next(index, cursor)

    index = _find(
        events, cursor,
        lambda e: e.kind == "request" and e.data.get("url") == url
        and method in (None, e.data.get("method")),
    )
    if index is None:
        return Exchange(method or "GET", url, status, READ), cursor
    seen = events[index].data
    stolen, details, rewrites = _what_it_took(events, index + 1, url)
    exchange = Exchange(
        seen.get("method", method or "GET"), url, status, READ,
        frozenset(stolen), tuple(details), tuple(rewrites),
        seen.get("upstream", "https"),
    )
    return exchange, index + 1


def _find(events, start, wanted):
    """The index of the first event from `start` on that is `wanted`."""
    for index in range(start, len(events)):
        if wanted(events[index]):
            return index
    return None


def _next(index, cursor):
    return cursor if index is None else index + 1


def _what_it_took(events, start, url):
    """What the attacker kept and rewrote for one request it read."""
    stolen, details, rewrites = set(), [], []
    for event in events[start:]:
        if event.kind in ("request", "tunnel"):
            break
        if event.data.get("url") != url:
            continue
        if event.kind == "form":
            names = list(event.data["fields"])
            has_password = any("pass" in name.lower() for name in names)
            stolen.add("password" if has_password else "form")
            details.append("form fields " + ", ".join(names))
        elif event.kind == "cookie":
            stolen.add("cookie")
            details.append("cookie " + ", ".join(event.data["cookies"]))
        elif event.kind == "strip":
            rewrites.extend(rewrite_words(event.data["rewrites"]))
    return stolen, details, rewrites


# --- Text twins --------------------------------------------------------------


def status_text(status):
    """`303 See Other` for 303; the bare number for an unknown code."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def reading(exchange):
    """One phrase for what the attacker could read of an exchange."""
    if exchange.path == READ:
        took = f"; it took {', '.join(exchange.seen)}" if exchange.seen else ""
        return "plain HTTP: the attacker reads it" + took
    if exchange.path == TUNNEL:
        return "encrypted: the attacker sees only a tunnel to " + _host(exchange)
    if exchange.path == DIRECT:
        how = "encrypted" if urlsplit(exchange.url).scheme == "https" else "plain HTTP"
        return f"straight to the bank, {how}: no attacker on the path"
    return "inside the browser: nothing was sent"


def sequence_text(exchanges):
    """The sequence diagram as numbered lines of text."""
    if not exchanges:
        return "No exchange yet."
    lines = []
    for number, ex in enumerate(exchanges, 1):
        request = f"{ex.method} {ex.url}"
        answer = status_text(ex.status)
        if ex.path == UPGRADE:
            lines.append(f"{number}. Victim's browser: {ex.note} ({request})")
        elif ex.path == READ:
            lines.append(f"{number}. Victim -> Attacker: {request} ({reading(ex)})")
            lines.append(f"   Attacker -> Bank: {ex.method} {ex.upstream_url}")
            rewrote = f" (attacker: {'; '.join(ex.rewrites)})" if ex.rewrites else ""
            lines.append(f"   Bank -> Attacker -> Victim: {answer}{rewrote}")
        else:
            lines.append(f"{number}. Victim -> Bank: {request} ({reading(ex)})")
            lines.append(f"   Bank -> Victim: {answer}")
    return "\n".join(lines)


def _host(exchange):
    parts = urlsplit(exchange.url)
    return f"{parts.hostname}:{parts.port or 443}"


# --- SVG helpers -------------------------------------------------------------


def _text(x, y, words, size=12, anchor="start", weight="normal", fill=INK,
          font=FONT):
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-family="{font}" font-size="{size}" '
        f'text-anchor="{anchor}" font-weight="{weight}" fill="{fill}">'
        f"{escape(str(words))}</text>"
    )


def _width(words, size=12, bold=False):
    """A generous guess of the drawn width of `words` (no font metrics here)."""
    ems = sum(0.74 if c.isupper() else 0.6 for c in str(words))
    return ems * size * (1.1 if bold else 1.0)


def _svg(width, height, title, description, body):
    """Wrap drawn parts into one standalone, accessible SVG document."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(title, quote=True)}">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
        f'<rect width="100%" height="100%" fill="white"/>'
        + "".join(body)
        + "</svg>"
    )


def _arrow(x1, x2, y, style="plain", reply=False):
    """A horizontal arrow: one line for plain HTTP, two for a TLS tunnel.

    A reply is dashed, a request solid.
    """
    tip = 9 if x2 > x1 else -9
    dash = ' stroke-dasharray="6 4"' if reply else ""
    parts = [
        f'<polygon points="{x2:.0f},{y:.0f} {x2 - tip:.0f},{y - 5:.0f} '
        f'{x2 - tip:.0f},{y + 5:.0f}" fill="{INK}"/>'
    ]
    if style == "tunnel":
        for offset in (-3, 3):
            parts.append(
                f'<line x1="{x1}" y1="{y + offset}" x2="{x2 - tip}" '
                f'y2="{y + offset}" stroke="{SAFE}" stroke-width="2"{dash}/>'
            )
    else:
        parts.append(
            f'<line x1="{x1}" y1="{y}" x2="{x2 - tip}" y2="{y}" stroke="{INK}" '
            f'stroke-width="1.5"{dash}/>'
        )
    return "".join(parts)


def _badge(x, y, words, fill, ink, size=11):
    """Words in a rounded box centred on x; the words carry the meaning."""
    width = _width(words, size, bold=True) + 14
    return (
        f'<rect x="{x - width / 2:.0f}" y="{y - size - 3:.0f}" width="{width:.0f}" '
        f'height="{size + 9}" rx="4" fill="{fill}" stroke="{ink}"/>'
        + _text(x, y, words, size, "middle", "bold", ink)
    )


# --- The sequence diagram ----------------------------------------------------

_LANES = {"Victim": 110, "Attacker": 420, "Bank": 730}
_CAPTIONS = {
    "Victim": "Alice's browser",
    "Attacker": "Mallory's proxy",
    "Bank": "bank.test",
}
_SEQ_WIDTH = 860


def sequence_svg(exchanges, title="What crossed the network"):
    """A sequence diagram (Victim | Attacker | Bank) of `exchanges`, as SVG.

    Plain HTTP through the attacker is drawn as single lines and marked
    "ATTACKER READS IT"; HTTPS as double lines marked "ENCRYPTED TUNNEL";
    replies as dashed lines.
    """
    v, a, b = _LANES.values()
    body = [_text(16, 24, title, 15, weight="bold")]
    for name, x in _LANES.items():
        body.append(
            f'<rect x="{x - 80}" y="38" width="160" height="40" rx="6" '
            f'fill="#f1f3f4" stroke="{LINE}"/>'
        )
        body.append(_text(x, 55, name, 13, "middle", "bold"))
        body.append(_text(x, 71, _CAPTIONS[name], 11, "middle", fill=MUTED))

    y = 110
    rows = []
    for number, ex in enumerate(exchanges, 1):
        rows.append(_text(14, y + 4, f"{number}.", 12, weight="bold"))
        drawn, y = _draw_exchange(ex, y, v, a, b)
        rows.extend(drawn)
    if not exchanges:
        rows.append(_text(_SEQ_WIDTH / 2, y, "No exchange yet.", 12, "middle"))
        y += 30

    lifelines = [
        f'<line x1="{x}" y1="78" x2="{x}" y2="{y}" stroke="{LINE}" '
        'stroke-dasharray="2 3"/>'
        for x in _LANES.values()
    ]
    legend = [
        _text(16, y + 22, "Single line: plain HTTP, the attacker reads and can "
              "change it.   Double line: HTTPS, an encrypted tunnel it cannot "
              "read.   Dashed: the reply.", 11, fill=MUTED),
    ]
    return _svg(
        _SEQ_WIDTH, y + 36, title, sequence_text(exchanges),
        body + lifelines + rows + legend,
    )


def _draw_exchange(ex, y, v, a, b):
    """The rows of one exchange from height `y`; return them and the next y."""
    request = f"{ex.method} {ex.url}"
    answer = status_text(ex.status)
    parts = []

    if ex.path == UPGRADE:
        words = f"In the browser, nothing sent: {ex.method} {ex.url} ({ex.note})"
        width = _width(words, 11) + 16
        parts.append(
            f'<rect x="{v - 70}" y="{y - 14}" width="{width:.0f}" height="22" '
            f'rx="4" fill="{SAFE_BG}" stroke="{SAFE}"/>'
        )
        parts.append(_text(v - 62, y + 1, words, 11, fill=SAFE))
        return parts, y + 36

    if ex.path == READ:
        parts.append(_text((v + a) / 2, y - 6, request, 11, "middle", font=MONO))
        parts.append(_arrow(v, a, y))
        upstream = f"{ex.method} {ex.upstream_url}"
        parts.append(_text((a + b) / 2, y - 6, upstream, 11, "middle", font=MONO))
        parts.append(_arrow(a, b, y))
        kept = f" and steals: {', '.join(sorted(ex.stolen))}" if ex.stolen else ""
        said = "ATTACKER READS IT" + kept
        parts.append(_badge(a, y + 22, said, DANGER_BG, DANGER))
        y += 52
        parts.append(_text((a + b) / 2, y - 6, answer, 11, "middle"))
        parts.append(_arrow(b, a, y, reply=True))
        parts.append(_text((v + a) / 2, y - 6, answer, 11, "middle"))
        parts.append(_arrow(a, v, y, reply=True))
        if ex.rewrites:
            changed = "the attacker changed it: " + "; ".join(ex.rewrites)
            parts.append(_text(v + 12, y + 16, changed, 11, fill=REWROTE))
            y += 16
        return parts, y + 40

    encrypted = urlsplit(ex.url).scheme == "https"
    style = "tunnel" if encrypted else "plain"
    parts.append(_text((v + a) / 2, y - 8, request, 11, "middle", font=MONO))
    parts.append(_arrow(v, b, y, style))
    if ex.path == TUNNEL:
        parts.append(_badge(a, y + 24, "ENCRYPTED TUNNEL: ATTACKER CANNOT READ IT",
                            "white", SAFE))
    else:
        parts.append(_badge(a, y + 24, "no attacker on the path", "white", MUTED))
    y += 52
    parts.append(_text((a + b) / 2, y - 8, answer, 11, "middle"))
    parts.append(_arrow(b, v, y, style, reply=True))
    return parts, y + 40


# --- The attack-by-defence grid -----------------------------------------------


def _columns(rows):
    """Column labels in order of first appearance across all rows."""
    seen = []
    for _, cells in rows:
        for column, _ in cells:
            if column not in seen:
                seen.append(column)
    return seen


def cell_text(stolen):
    """What one grid cell says: what was stolen, or that nothing was."""
    if stolen is None:
        return "not run"
    if not stolen:
        return "safe: nothing stolen"
    return "STOLEN: " + ", ".join(sorted(stolen))


def grid_text(rows):
    """The attack-by-defence grid as an aligned text table."""
    columns = _columns(rows)
    table = [["defence \\ attack", *columns]]
    for stage, cells in rows:
        found = dict(cells)
        table.append([stage, *(cell_text(found.get(c)) for c in columns)])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join(
        " | ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
        for row in table
    )


def grid_svg(rows, title="Every attack against every defence"):
    """The attack-by-defence grid as SVG.

    `rows` is a list of (stage label, [(column label, set of what was
    stolen)]), for example ("weak bank", [("SSL stripping", {"password"})]).
    An empty set means the defence held; a column a row lacks reads "not
    run". Each cell says in words what happened, besides its colour.
    """
    columns = _columns(rows)
    first = max([_width("defence \\ attack", 12), *(_width(s, 12) for s, _ in rows)])
    first += 24
    widths = [
        max(_width(c, 12), *(_width(cell_text(cs.get(c)), 12)
                              for cs in (dict(cells) for _, cells in rows)), 120)
        + 24
        for c in columns
    ]
    width = 16 + first + sum(widths) + 16
    height = 46 + 40 * (len(rows) + 1) + 16

    body = [_text(16, 26, title, 15, weight="bold")]
    y = 46
    x = 16 + first
    body.append(_text(24, y + 25, "defence \\ attack", 12, weight="bold", fill=MUTED))
    for column, w in zip(columns, widths):
        body.append(_text(x + w / 2, y + 25, column, 12, "middle", "bold"))
        x += w
    for stage, cells in rows:
        y += 40
        found = dict(cells)
        body.append(f'<line x1="16" y1="{y}" x2="{width - 16:.0f}" y2="{y}" '
                    f'stroke="{LINE}"/>')
        body.append(_text(24, y + 25, stage, 12, weight="bold"))
        x = 16 + first
        for column, w in zip(columns, widths):
            body.append(_grid_cell(x, y, w, found.get(column)))
            x += w
    description = grid_text(rows)
    return _svg(width, height, title, description, body)


def _grid_cell(x, y, w, stolen):
    """One cell of the grid: a filled box with words in it."""
    if stolen is None:
        fill, ink = "white", MUTED
    elif stolen:
        fill, ink = DANGER_BG, DANGER
    else:
        fill, ink = SAFE_BG, SAFE
    return (
        f'<rect x="{x + 4:.0f}" y="{y + 5}" width="{w - 8:.0f}" height="30" rx="4" '
        f'fill="{fill}" stroke="{ink}"/>'
        + _text(x + w / 2, y + 25, cell_text(stolen), 12, "middle", "bold", ink)
    )


# --- The learner's progress ---------------------------------------------------


def progress_text(progress):
    """The checks as a to-do list: '[done]' or '[to do]' before each name."""
    done = sum(1 for passed in progress.values() if passed)
    lines = [f"{done} of {len(progress)} checks passed."]
    for name, passed in progress.items():
        lines.append(f"[{'done' if passed else 'to do'}] {name}")
    return "\n".join(lines)


def progress_svg(progress, title="Your progress"):
    """The learner's checks as a list with a box per check, as SVG.

    A passed check shows a tick and the word "done"; one still open an empty
    box and "to do".
    """
    done = sum(1 for passed in progress.values() if passed)
    summary = f"{title}: {done} of {len(progress)} checks passed"
    longest = max([_width(summary, 14), *(_width(n, 12) + 110 for n in progress)])
    width, height = longest + 40, 52 + 28 * len(progress) + 8

    body = [_text(16, 26, summary, 14, weight="bold")]
    y = 52
    for name, passed in progress.items():
        ink = SAFE if passed else MUTED
        body.append(
            f'<rect x="16" y="{y - 13}" width="16" height="16" rx="3" '
            f'fill="{SAFE_BG if passed else "white"}" stroke="{ink}"/>'
        )
        if passed:
            body.append(
                f'<polyline points="19,{y - 5} 23,{y - 1} 30,{y - 10}" '
                f'fill="none" stroke="{SAFE}" stroke-width="2.5"/>'
            )
        body.append(_text(42, y, "done" if passed else "to do", 12, weight="bold",
                          fill=ink))
        body.append(_text(100, y, name, 12))
        y += 28
    return _svg(width, height, summary, progress_text(progress), body)
