"""Reading the folders people really have: the seeds written as saved web pages (with site chrome), PDF,
Word and Markdown (tests/fixtures_formats.py), indexed for real.

Every indexed sentence is an exact span of the text read from its file, that text is kept in the store, a
PDF's sentences know their page, the web page's chrome never becomes evidence, files are read again only
when they or their reader change, and the sources API serves the text read, never the file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
import yaml

from index.build import IndexReport, evidence_sentences, index_corpus
from index.corpus import content_hash, load_corpus
from index.embed import make_embedder
from index.extract import READER_VERSIONS, extract_bytes, format_of, stamp
from index.store import Store
from qa.settings import Settings
from tests.fixtures_formats import (
    CHROME,
    MIXED,
    PDF_HEADER,
    docx_bytes,
    every_format_corpus,
    html_page,
    mixed_corpus,
    remapped_pairs,
    seed_files,
    write_seed,
)
from tests.helpers import MAX_CHARS
from tests.live_server import LiveServer, ScriptedLLM, client, start_server

FORMATS = ("txt", "md", "html", "pdf", "docx")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip()


def _store(settings: Settings) -> Store:
    emb = make_embedder(settings.index, settings.llm)
    return Store(settings.index, emb.name, emb.dim)


@pytest.fixture(scope="module")
def every(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, IndexReport]:
    """Every seed in every format (25 files), indexed once."""
    root = tmp_path_factory.mktemp("every")
    folder = root / "corpus"
    every_format_corpus(folder)
    settings = Settings(data_dir=root / "data", corpus_dir=folder)
    return settings, folder, index_corpus(settings.index)


def test_every_format_is_indexed_and_summarised_per_format(every: tuple[Settings, Path, IndexReport]) -> None:
    _, folder, report = every
    assert sorted(report.added) == sorted(p.name for p in folder.iterdir())
    assert report.skipped == [] and len(report.added) == 25
    for fmt in FORMATS:
        c = report.formats[fmt]
        assert (c.files, c.new, c.read) == (5, 5, 5), (fmt, c)
    table = report.summary().splitlines()
    assert table[0].startswith("indexed 25 new, 0 changed, 0 removed, 0 unchanged article(s)")
    assert table[1].split() == [
        "format",
        "files",
        "new",
        "changed",
        "unchanged",
        "skipped",
        "removed",
        "read/file",
    ]
    assert {ln.split()[0] for ln in table[2:]} == {"text", "Markdown", "HTML", "PDF", "Word"}


def test_every_sentence_is_an_exact_span_of_the_text_read_from_its_file(
    every: tuple[Settings, Path, IndexReport],
) -> None:
    settings, folder, _ = every
    store = _store(settings)
    sentences, _ = store.all_sentences()
    read = {a.file: a for a in load_corpus(folder)[0]}
    assert {s.file for s in sentences} == set(read)
    for file, article in read.items():
        kept = store.text(file)
        assert kept is not None and kept.format == format_of(file)
        assert kept.text == article.text  # reading again gives the very text that was indexed
        assert kept.stamp == stamp(kept.format)
        mine = [s for s in sentences if s.file == file]
        expected, _ = evidence_sentences(file, kept.text, MAX_CHARS)
        assert [(s.n, s.start, s.end, s.text) for s in mine] == [
            (s.n, s.start, s.end, s.text) for s in expected
        ]
        for s in mine:  # the citation contract: extracted[start:end] == quote, id = <file>#<n>
            assert kept.text[s.start : s.end] == s.text and s.id == f"{file}#{s.n}"
    for p in seed_files():  # a .txt is read as it is
        assert read[p.name].text == p.read_text("utf-8")


def test_each_format_reads_the_whole_article(every: tuple[Settings, Path, IndexReport]) -> None:
    """What the .txt seed offers as evidence, the HTML, PDF and Word versions offer too; Markdown loses
    only link syntax (seed 004 carries `[text](#)` literally)."""
    settings, _, _ = every
    store = _store(settings)
    for seed in seed_files():
        want = [_norm(s.text) for s in evidence_sentences(seed.name, seed.read_text("utf-8"), MAX_CHARS)[0]]
        for fmt in ("html", "pdf", "docx", "md"):
            kept = store.text(f"{seed.stem}.{fmt}")
            assert kept is not None
            have = _norm(kept.text)
            missing = [w for w in want if w not in have]
            if fmt == "md":
                assert len(missing) <= 0.1 * len(want) and all("](" in m for m in missing), missing
            else:
                assert missing == [], (seed.name, fmt, missing)


def test_web_page_chrome_scripts_and_handlers_never_become_evidence(
    every: tuple[Settings, Path, IndexReport],
) -> None:
    settings, _, _ = every
    store = _store(settings)
    sentences, _ = store.all_sentences()
    for seed in seed_files():
        file = f"{seed.stem}.html"
        kept = store.text(file)
        assert kept is not None
        assert kept.title and kept.date == "2021-06-22"
        for code in ("dataLayer", "onclick", "onload", "acceptCookies", "window.open", "gtag", "<p>", "<a "):
            assert code not in kept.text, (file, code)
        mine = [s.text for s in sentences if s.file == file]
        for chrome in CHROME:
            if " " in chrome:
                assert chrome not in kept.text, (file, chrome)
                assert not any(chrome in s for s in mine), (file, chrome)
            else:  # a one-word menu item may be a word of the article, never a sentence of its own
                assert chrome not in mine, (file, chrome)


def test_pdf_sentences_know_their_page(every: tuple[Settings, Path, IndexReport]) -> None:
    settings, folder, _ = every
    store = _store(settings)
    sentences, _ = store.all_sentences()
    for seed in seed_files():
        file = f"{seed.stem}.pdf"
        kept = store.text(file)
        assert kept is not None
        pdf = pypdf.PdfReader(folder / file)
        assert len(kept.pages) == len(pdf.pages) >= 2 and kept.pages[0] == 0
        assert PDF_HEADER not in kept.text and "Page 1 of" not in kept.text  # running header and footer
        page_text = [_norm(p.extract_text()) for p in pdf.pages]
        stored = store._sent.get(where={"file": file}, include=["metadatas"])
        meta_page = {str(m["sid"]): m.get("page") for m in stored["metadatas"] or []}
        for s in (s for s in sentences if s.file == file):
            page = kept.page_at(s.start)
            assert page is not None and meta_page[s.id] == page
            head = " ".join(_norm(s.text).split()[:4])
            assert head in page_text[page - 1], (file, s.n, page, head)


def test_unchanged_files_are_not_read_again_and_a_new_reader_reads_its_format_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "corpus"
    mapping = mixed_corpus(folder)
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=folder)
    first = index_corpus(settings.index)
    assert sorted(first.added) == sorted(mapping.values())
    again = index_corpus(settings.index)
    assert again.sentences_embedded == 0 and len(again.unchanged) == 5
    assert sum(c.read for c in again.formats.values()) == 0  # nothing was even opened by a reader

    pdf = folder / mapping["000_f9686eb01d8f09a5.txt"]
    write_seed(seed_files()[3], tmp_path, ".pdf")  # another article under the same name
    (tmp_path / f"{seed_files()[3].stem}.pdf").replace(pdf)
    changed = index_corpus(settings.index)
    assert changed.updated == [pdf.name] and changed.formats["pdf"].read == 1
    assert len(changed.unchanged) == 4

    monkeypatch.setitem(READER_VERSIONS, "html", READER_VERSIONS["html"] + 1)
    stamp.cache_clear()
    try:
        restamped = index_corpus(settings.index)
        html = mapping["001_f84c817a288671ab.txt"]
        assert restamped.updated == [html] and len(restamped.unchanged) == 4
        store = _store(settings)
        kept = store.text(html)
        assert kept is not None and kept.stamp == stamp("html")
        assert store.manifest()[html] == content_hash((folder / html).read_bytes())  # the raw file's hash
        assert len([s for s in store.all_sentences()[0] if s.file == html]) == len(
            evidence_sentences(html, kept.text, MAX_CHARS)[0]
        )
    finally:
        monkeypatch.undo()
        stamp.cache_clear()


def test_the_mixed_folder_holds_every_evaluation_evidence_sentence(tmp_path: Path) -> None:
    """The folder `qa eval` is measured on (tests/fixtures_formats.py): one seed per format, the pairs'
    evidence renamed by stem, and each evidence string still in a citable sentence of the text read."""
    mapping = mixed_corpus(tmp_path / "corpus")
    assert {Path(v).suffix for v in mapping.values()} == set(MIXED.values())
    remapped_pairs(mapping, tmp_path / "pairs.yaml")
    pairs = yaml.safe_load((tmp_path / "pairs.yaml").read_text("utf-8"))
    texts = {a.file: a.text for a in load_corpus(tmp_path / "corpus")[0]}
    checked = 0
    for pair in pairs:
        for ev in pair.get("evidence") or []:
            assert ev["file"] in texts, ev
            citable = evidence_sentences(ev["file"], texts[ev["file"]], MAX_CHARS)[0]
            assert any(ev["contains"] in s.text for s in citable), (pair["id"], ev)
            checked += 1
    assert checked > 50


def test_markdown_is_read_as_its_words_without_markup() -> None:
    md = (
        b"---\ntitle: Flood report\ndate: 2024-03-05\n---\n\n"
        b"# The river *rose* on Monday\n\n"
        b"Water reached the **old mill** by noon, [officials](http://example.org) said;\n"
        b"the bridge was closed.\n\n"
        b"![a photo of the bridge](bridge.jpg)\n\n"
        b'<div onclick="steal()">Injected block</div>\n\n'
        b'- Schools shut <span onmouseover="x()">early</span>.\n'
        b"- Trains ran `late`.\n\n"
        b"| Town | Rain |\n|---|---|\n| Lowford | 40 mm |\n\n"
        b"> The worst in ten years, a farmer said.\n"
    )
    got = extract_bytes("md", md)
    assert got.title == "Flood report" and got.date == "2024-03-05"
    assert got.text == (
        "The river rose on Monday\n\n"
        "Water reached the old mill by noon, officials said; the bridge was closed.\n\n"
        "Schools shut early.\n\n"
        "Trains ran late.\n\n"
        "Town | Rain\n\n"
        "Lowford | 40 mm\n\n"
        "The worst in ten years, a farmer said."
    )


def test_word_documents_are_read_in_order_with_tables_and_without_headers() -> None:
    import docx

    d = docx.Document(io.BytesIO(docx_bytes("Flood report", ["Water reached the mill by noon."])))
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Lowford"
    table.rows[0].cells[1].text = "40 mm of rain"
    d.add_paragraph("The bridge was closed on Tuesday.")
    buf = io.BytesIO()
    d.save(buf)
    got = extract_bytes("docx", buf.getvalue())
    assert got.title == "Flood report" and got.date == "2021-06-22"
    assert got.text == (
        "Flood report\n\nWater reached the mill by noon.\n\nLowford | 40 mm of rain\n\n"
        "The bridge was closed on Tuesday."
    )
    assert "Internal distribution" not in got.text  # the page header is not the document's text


def test_web_page_title_is_read_once_and_encodings_are_honoured() -> None:
    page = html_page("Rain closes the pass", ["Snow and rain closed the pass on Monday, officials said."])
    got = extract_bytes("html", page.replace('charset="utf-8"', 'charset="windows-1252"').encode("cp1252"))
    assert got.text.startswith("Rain closes the pass\n\nSnow and rain closed the pass on Monday")
    assert got.text.count("Rain closes the pass") == 1


# ---- what the sources API and the source panel show ------------------------------------------------------
@pytest.fixture(scope="module")
def api(every: tuple[Settings, Path, IndexReport]) -> Iterator[tuple[LiveServer, Settings]]:
    """The HTTP API over the every-format index, with a scripted backend (no model is loaded)."""
    from qa.api.app import create_app
    from qa.pipeline import Pipeline
    from qa.retrieve import Retriever
    from qa.service import QAService

    settings = every[0]
    service = QAService(
        settings, pipeline=Pipeline(settings, llm=ScriptedLLM(), retriever=Retriever(settings))
    )
    server = start_server(create_app(settings, service, ui=False), settings, service)
    yield server, settings
    server.stop()


@pytest.mark.parametrize("fmt", FORMATS)
def test_sources_serve_the_text_read_with_spans_and_pages(api: tuple[LiveServer, Settings], fmt: str) -> None:
    import jsonschema

    server, _ = api
    file = f"{seed_files()[0].stem}.{fmt}"
    with client(server.url) as c:
        r = c.get(f"/api/sources/{file}")
        spec = c.get("/openapi.json").json()
    assert r.status_code == 200
    doc = r.json()
    schema = spec["paths"]["/api/sources/{file}"]["get"]["responses"]["200"]["content"]["application/json"]
    jsonschema.validate(doc, {**schema["schema"], "components": spec["components"]})
    assert doc["file"] == file and doc["format"] == fmt and len(doc["sentences"]) > 5
    for s in doc["sentences"]:
        assert doc["text"][s["start"] : s["end"]] == s["text"] and s["id"] == f"{file}#{s['n']}"
        assert (s["page"] is not None) == (fmt == "pdf")
    assert (len(doc["pages"]) >= 2) == (fmt == "pdf")
    for raw in ("<script", "<p>", "%PDF", "word/document.xml", "---\ntitle"):
        assert raw not in r.text  # the text read, never the file


def test_sources_are_404_for_paths_into_the_corpus(
    api: tuple[LiveServer, Settings], every: tuple[Settings, Path, IndexReport]
) -> None:
    server, _ = api
    folder = every[1]
    name = f"{seed_files()[0].stem}.pdf"
    with client(server.url) as c:
        for path in (f"..%2fcorpus%2f{name}", f"{folder}/{name}", f"corpus/{name}", seed_files()[0].stem):
            assert c.get(f"/api/sources/{path}").status_code == 404, path


def test_the_source_panel_shows_the_text_read_with_the_sentence_and_its_page(
    api: tuple[LiveServer, Settings],
) -> None:
    from qa.sources import source_view
    from qa.types import Answer, Citation
    from tests.test_present import tags
    from ui.render import render_source

    server, _ = api
    for fmt in ("pdf", "html"):
        view = source_view(server.service, f"{seed_files()[1].stem}.{fmt}")
        assert view is not None and view.text is not None
        s = view.sentences[-3]
        cite = Citation(id=s.id, file=view.file, sentence=s.n, quote=s.text, start=s.start, end=s.end)
        answer = Answer(question="q", answer=f"{s.text} [1]", refused=False, citations=[cite])
        html = render_source(view, answer, 0, 1, articles=25)
        found = tags(html)
        assert not {t for t, _ in found} & {"script", "img", "a", "iframe", "p"}
        assert not any(k.startswith("on") for _, attrs in found for k in attrs)
        hl = [a for t, a in found if "qa-hl" in (a.get("class") or "")]
        assert [a["data-sid"] for a in hl] == [s.id]
        marks = [a for t, a in found if "qa-page" in (a.get("class") or "")]
        if fmt == "pdf":
            assert [a["data-page"] for a in marks] == [str(n) for n in range(1, len(view.pages) + 1)]
            assert f"page {s.page}" in html and s.page and s.page > 1
        else:
            assert marks == [] and "web page" in html
