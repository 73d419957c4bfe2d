"""Reading the links and forms out of a page, as a browser needs them."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


@dataclass(frozen=True)
class Link:
    """A link: its text and the absolute URL it leads to."""

    text: str
    url: str


@dataclass
class Form:
    """A form: where it submits, how, and its fields with their defaults."""

    action: str
    method: str
    fields: dict = field(default_factory=dict)


def links_and_forms(base_url, text):
    """Return the links and the forms in an HTML page, URLs made absolute."""
    parser = _PageParser(base_url)
    parser.feed(text)
    parser.close()
    return parser.links, parser.forms


class _PageParser(HTMLParser):
    """Collect <a href> links with their text, and <form> fields."""

    def __init__(self, base_url):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.links = []
        self.forms = []
        self._href = None
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href") is not None:
            self._href = urljoin(self.base_url, attrs["href"])
            self._text = []
        elif tag == "form":
            # HTML: a missing or empty action submits to the page itself.
            action = urljoin(self.base_url, attrs.get("action") or "")
            method = (attrs.get("method") or "get").upper()
            self.forms.append(Form(action, method))
        elif tag in ("input", "textarea", "select") and self.forms:
            name = attrs.get("name")
            if name:
                self.forms[-1].fields[name] = attrs.get("value") or ""

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            text = " ".join("".join(self._text).split())
            self.links.append(Link(text, self._href))
            self._href = None
