"""PDF from HTML with WeasyPrint: the printable audit trail."""

from __future__ import annotations

from django.contrib.staticfiles import finders

PRINT_STYLESHEET = "css/print.css"


def pdf(html: str, *, base_url: str) -> bytes:
    """The document laid out on A4 pages by the print stylesheet (no network: assets are local)."""
    # Imported when a trail is printed: WeasyPrint loads Pango and fonts, which no other request
    # and no worker needs.
    from weasyprint import CSS, HTML

    stylesheet = finders.find(PRINT_STYLESHEET)
    if not isinstance(stylesheet, str):
        raise RuntimeError(f"static file {PRINT_STYLESHEET} not found")

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ValueError(f"the printable trail loads nothing from outside: {url}")

    document = HTML(string=html, base_url=base_url, url_fetcher=no_fetch)
    result = document.write_pdf(stylesheets=[CSS(filename=stylesheet)])
    assert isinstance(result, bytes)
    return result
