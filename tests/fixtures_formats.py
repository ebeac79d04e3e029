"""The seed articles written as the files people really keep: saved web pages with their site chrome, PDF,
Word and Markdown. Built in the tests (nothing binary is checked in) and by hand for the evaluation:

    .venv/bin/python -m tests.fixtures_formats OUT      # OUT/corpus (mixed formats) + OUT/pairs.yaml

Each seed keeps its stem (`000_f9686eb01d8f09a5.html` is seed `000_f9686eb01d8f09a5.txt`); the mixed
folder holds every seed once, each in another format, and OUT/pairs.yaml is qa/eval/pairs.yaml with each
evidence file renamed to that seed's file in the folder (same stem, the folder's extension), so
`qa eval --corpus OUT/corpus --pairs OUT/pairs.yaml` scores the same questions against the same articles.

The site chrome (`CHROME`) is generic web furniture: navigation, a cookie notice, share bars, a newsletter
box, related and most-read links, a footer. None of it may ever become evidence.
"""

from __future__ import annotations

import argparse
import datetime
import html
import io
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATE = "2021-06-22"

# Every visible string of the chrome around the article, to check that none of it is ever indexed.
NAV = ["Home", "World", "Politics", "Business", "Science", "Opinion", "Sport", "Podcasts"]
RELATED = [
    "Flooding closes mountain pass for a third day as crews clear the road",
    "Central bank holds interest rates steady amid slowing growth",
    "Museum returns looted statues to their country of origin",
    "New rail link cuts travel time between the two largest cities",
]
MOST_READ = [
    "Ten photographs that defined the week",
    "What the new budget means for your household bills",
]
CHROME = [
    "Skip to main content",
    "The Daily Courier",
    *NAV,
    "We use cookies to improve your experience on our site and to show you relevant advertising.",
    "By continuing to browse, you agree to our use of cookies.",
    "Accept all cookies",
    "Manage preferences",
    "Share on Facebook",
    "Share on Twitter",
    "Share via Email",
    "Copy link",
    "Sign up for our morning newsletter and get the top stories in your inbox every day.",
    "Related stories",
    *RELATED,
    "Most read",
    *MOST_READ,
    "About us",
    "Contact us",
    "Terms of use",
    "Privacy policy",
    "© 2021 The Daily Courier. All rights reserved.",
]
PDF_HEADER = "The Daily Courier | World news"


def seed_files() -> list[Path]:
    """The seed articles, by name."""
    return sorted(SEEDS.glob("*.txt"))


def seed_parts(path: Path) -> tuple[str, list[str]]:
    """A seed as (headline, paragraphs): its first non-empty line, then the other non-empty lines (a
    headline repeated right below itself, as some saved pages have it, is kept once)."""
    lines = [ln.strip() for ln in path.read_text("utf-8").splitlines() if ln.strip()]
    title, body = lines[0], lines[1:]
    if body and body[0] == title:
        body = body[1:]
    return title, body


# ---- HTML ---------------------------------------------------------------------------------------------
def html_page(title: str, paragraphs: Iterable[str], date: str = DATE) -> str:
    """A saved news page: the article inside the chrome a real site puts around it, with analytics
    scripts, JSON-LD metadata, inline event handlers and a cookie banner."""
    e = html.escape
    nav = "".join(f'<li><a href="/{n.lower()}" onclick="track(\'nav\')">{e(n)}</a></li>' for n in NAV)
    related = "".join(f'<li><a href="/story/{i}">{e(t)}</a></li>' for i, t in enumerate(RELATED))
    most = "".join(f'<li><a href="/popular/{i}">{e(t)}</a></li>' for i, t in enumerate(MOST_READ))
    share = (
        '<div class="share-bar" role="group" aria-label="Share">'
        '<a class="share fb" href="https://www.facebook.com/sharer/sharer.php?u=x" '
        "onclick=\"window.open(this.href,'s','width=600');return false;\">Share on Facebook</a> "
        '<a class="share tw" href="https://twitter.com/intent/tweet?url=x">Share on Twitter</a> '
        '<a class="share mail" href="mailto:?subject=x">Share via Email</a> '
        '<button class="copy" onclick="navigator.clipboard.writeText(location.href)">Copy link</button>'
        "</div>"
    )
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} | The Daily Courier</title>
<meta property="og:title" content="{e(title)}">
<meta property="og:site_name" content="The Daily Courier">
<meta property="article:published_time" content="{date}T08:30:00+00:00">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "{e(title)}", "datePublished": "{date}T08:30:00+00:00"}}</script>
<script>window.dataLayer = window.dataLayer || [];
function track(e) {{ dataLayer.push({{event: e}}); }}</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
<style>body {{ font-family: Georgia, serif; }} .cookie-notice {{ position: fixed; bottom: 0; }}</style>
</head>
<body onload="track('load')">
<a class="skip" href="#main">Skip to main content</a>
<div id="cookie-notice" class="cookie-notice" role="dialog">
<p>We use cookies to improve your experience on our site and to show you relevant advertising.
By continuing to browse, you agree to our use of cookies.</p>
<button onclick="acceptCookies()">Accept all cookies</button> <a href="/cookies">Manage preferences</a>
</div>
<header class="site-header">
<a class="logo" href="/">The Daily Courier</a>
<nav class="main-nav" aria-label="Sections"><ul>{nav}</ul></nav>
</header>
<main id="main">
<article class="story">
<h1 class="headline">{e(title)}</h1>
<div class="byline">By Courier staff · <time datetime="{date}">June 22, 2021</time></div>
{share}
<div class="story-body">
{body}
</div>
{share}
<div class="newsletter"><p>Sign up for our morning newsletter and get the top stories in your inbox every
day.</p><form><input type="email" placeholder="Email address"><button>Sign up</button></form></div>
</article>
<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside>
<aside class="most-read"><h2>Most read</h2><ol>{most}</ol></aside>
</main>
<footer class="site-footer">
<nav><a href="/about">About us</a> | <a href="/contact">Contact us</a> | <a href="/terms">Terms of use</a> |
<a href="/privacy">Privacy policy</a></nav>
<p>© 2021 The Daily Courier. All rights reserved.</p>
</footer>
<script>function acceptCookies() {{ document.getElementById('cookie-notice').remove(); }}</script>
</body>
</html>
"""


def write_html(path: Path, title: str, paragraphs: list[str]) -> None:
    """The article as a saved web page."""
    path.write_text(html_page(title, paragraphs), "utf-8")


# ---- PDF ----------------------------------------------------------------------------------------------
def _cp1252(text: str) -> str:
    # The PDF core fonts speak Windows-1252, which holds every character of the seeds.
    return text.encode("cp1252", "replace").decode("cp1252")


def pdf_bytes(title: str, paragraphs: list[str], pages_break_every: int = 0) -> bytes:
    """The article as a PDF with a text layer: a bold headline, wrapped paragraphs, a running header and
    a "Page N of M" footer on every page (as a browser's or a word processor's "save as PDF" makes).
    `pages_break_every` > 0 starts a new page after that many paragraphs (to get several pages)."""
    from fpdf import FPDF

    class Doc(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, PDF_HEADER)
            self.ln(10)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Doc(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(_cp1252(title))
    pdf.set_creation_date(datetime.datetime(2021, 6, 22, 8, 30, tzinfo=datetime.UTC))
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_margins(20, 15, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 8, _cp1252(title))
    pdf.ln(4)
    pdf.set_font("Helvetica", size=11)
    for i, p in enumerate(paragraphs, 1):
        pdf.multi_cell(0, 5.5, _cp1252(p))
        pdf.ln(3)
        if pages_break_every and i % pages_break_every == 0 and i < len(paragraphs):
            pdf.add_page()
    return bytes(pdf.output())


def write_pdf(path: Path, title: str, paragraphs: list[str]) -> None:
    """The article as a PDF."""
    path.write_bytes(pdf_bytes(title, paragraphs, pages_break_every=6))


# ---- DOCX ---------------------------------------------------------------------------------------------
def docx_bytes(title: str, paragraphs: list[str]) -> bytes:
    """The article as a Word document: a title in the document properties, a heading, body paragraphs,
    and a page header that is not part of the text."""
    import docx

    d = docx.Document()
    d.core_properties.title = title
    d.core_properties.created = datetime.datetime(2021, 6, 22, 8, 30)
    d.sections[0].header.paragraphs[0].text = "The Daily Courier | Internal distribution"
    d.add_heading(title, level=1)
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def write_docx(path: Path, title: str, paragraphs: list[str]) -> None:
    """The article as a .docx."""
    path.write_bytes(docx_bytes(title, paragraphs))


# ---- Markdown -----------------------------------------------------------------------------------------
def markdown_text(title: str, paragraphs: list[str]) -> str:
    """The article as Markdown: front matter, a heading, paragraphs hard-wrapped as editors save them."""
    import textwrap

    wrapped = (textwrap.fill(p, 78, break_long_words=False, break_on_hyphens=False) for p in paragraphs)
    body = "\n\n".join(wrapped)
    return f'---\ntitle: "{title.replace(chr(34), chr(39))}"\ndate: {DATE}\n---\n\n# {title}\n\n{body}\n'


def write_md(path: Path, title: str, paragraphs: list[str]) -> None:
    """The article as a .md file."""
    path.write_text(markdown_text(title, paragraphs), "utf-8")


WRITERS: dict[str, Callable[[Path, str, list[str]], None]] = {
    ".html": write_html,
    ".pdf": write_pdf,
    ".docx": write_docx,
    ".md": write_md,
}
# One seed per format: the folder the evaluation runs on.
MIXED = {
    "000_f9686eb01d8f09a5": ".pdf",
    "001_f84c817a288671ab": ".html",
    "002_b929c658bd95d00a": ".docx",
    "003_a1a1630b6159c364": ".md",
    "004_b46bcfd9b799a991": ".txt",
}


def write_seed(seed: Path, folder: Path, ext: str) -> Path:
    """Write one seed into `folder` as `<stem><ext>` (a .txt is copied as it is)."""
    out = folder / f"{seed.stem}{ext}"
    if ext == ".txt":
        shutil.copy(seed, out)
    else:
        title, body = seed_parts(seed)
        WRITERS[ext](out, title, body)
    return out


def mixed_corpus(folder: Path) -> dict[str, str]:
    """Every seed once, each in its format of MIXED; returns seed file name → file name in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    return {s.name: write_seed(s, folder, MIXED[s.stem]).name for s in seed_files()}


def every_format_corpus(folder: Path, formats: Iterable[str] = (".html", ".pdf", ".docx", ".md")) -> None:
    """Every seed in every format (plus the .txt seeds): five copies of each article."""
    folder.mkdir(parents=True, exist_ok=True)
    for s in seed_files():
        write_seed(s, folder, ".txt")
        for ext in formats:
            write_seed(s, folder, ext)


def remapped_pairs(mapping: dict[str, str], out: Path) -> None:
    """qa/eval/pairs.yaml with every evidence file renamed through `mapping` (seed name → new name)."""
    import yaml

    from qa.eval.pairs import default_pairs_path

    raw = yaml.safe_load(default_pairs_path().read_text("utf-8"))
    for pair in raw:
        for ev in pair.get("evidence") or []:
            ev["file"] = mapping.get(ev["file"], ev["file"])
    out.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=1000), "utf-8")


def zip_bomb_docx(uncompressed_mb: int = 1024) -> bytes:
    """A .docx (a zip) whose document.xml inflates from about 1 MB to `uncompressed_mb` MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1024 * 1024)
            for _ in range(uncompressed_mb):
                f.write(chunk)
    return buf.getvalue()


def many_pages_pdf(pages: int, text: str = "") -> bytes:
    """A valid PDF of `pages` pages that all share one content stream (so it stays small): blank when
    `text` is empty, else each page shows `text` in 20 lines (every page then costs a reader real work)."""
    from index.extract import text_pdf

    return text_pdf(pages, text)


def encrypted_pdf(user_password: str) -> bytes:
    """A seed as a PDF encrypted with AES-256: `user_password` "" opens without one (owner password only)."""
    import pypdf

    title, body = seed_parts(seed_files()[0])
    w = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes(title, body)))
    w.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def scanned_pdf() -> bytes:
    """A PDF whose pages are pictures without a text layer, as a scanner makes them."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    for _ in range(2):
        pdf.add_page()
        for row in range(40):
            pdf.set_fill_color(40, 40, 40)
            pdf.rect(20, 20 + row * 6, 120 + (row * 7) % 50, 3, style="F")  # lines of "print", as pixels
    return bytes(pdf.output())


def main(argv: list[str] | None = None) -> int:
    """Write OUT/corpus (one seed per format) and OUT/pairs.yaml (evidence renamed to match)."""
    ap = argparse.ArgumentParser(prog="python -m tests.fixtures_formats", description=main.__doc__)
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    mapping = mixed_corpus(args.out / "corpus")
    remapped_pairs(mapping, args.out / "pairs.yaml")
    for seed, name in mapping.items():
        print(f"{seed} -> {args.out / 'corpus' / name}")
    print(f"pairs: {args.out / 'pairs.yaml'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
