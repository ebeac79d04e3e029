"""Indexing against a real Chroma store on disk: incremental runs, bad files, stamps, locks, atomicity."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.build import evidence_sentences, index_corpus
from index.embed import make_embedder
from index.errors import CorpusError, IndexLockedError, IndexMismatchError, IndexMissingError
from index.sentences import Sentence
from index.store import Store, writer_lock
from qa.retrieve import BM25_FORMAT
from qa.settings import Settings
from tests.helpers import MAX_CHARS

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def settings(tmp_path: Path, corpus: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus)


def _store(settings: Settings) -> Store:
    emb = make_embedder(settings.index, settings.llm)
    return Store(settings.index, emb.name, emb.dim)


def test_first_run_indexes_every_evidence_sentence(settings: Settings, corpus: Path) -> None:
    report = index_corpus(settings.index)
    assert sorted(report.added) == sorted(p.name for p in corpus.glob("*.txt"))
    store = _store(settings)
    sentences, vectors = store.all_sentences()
    expected = sum(
        len(evidence_sentences(p.name, p.read_text("utf-8"), MAX_CHARS)[0]) for p in corpus.glob("*.txt")
    )
    assert len(sentences) == expected == store.count()
    assert vectors.shape == (expected, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    for s in sentences:  # the stored span still points at the exact text in the file
        text = (corpus / s.file).read_text("utf-8")
        assert text[s.start : s.end] == s.text


def test_unchanged_corpus_embeds_nothing(settings: Settings) -> None:
    index_corpus(settings.index)
    again = index_corpus(settings.index)
    assert again.sentences_embedded == 0
    assert again.added == again.updated == again.removed == []
    assert len(again.unchanged) == 5


def test_changed_file_is_replaced_and_deleted_file_removed(settings: Settings, corpus: Path) -> None:
    index_corpus(settings.index)
    changed = corpus / "000_f9686eb01d8f09a5.txt"
    changed.write_text("The river flooded the old mill on Tuesday, officials said.\n", "utf-8")
    (corpus / "004_b46bcfd9b799a991.txt").unlink()
    report = index_corpus(settings.index)
    assert report.updated == ["000_f9686eb01d8f09a5.txt"]
    assert report.removed == ["004_b46bcfd9b799a991.txt"]
    assert report.sentences_embedded == 1
    sentences, _ = _store(settings).all_sentences()
    mine = [s for s in sentences if s.file == "000_f9686eb01d8f09a5.txt"]
    assert [s.text for s in mine] == ["The river flooded the old mill on Tuesday, officials said."]
    assert not any(s.file == "004_b46bcfd9b799a991.txt" for s in sentences)
    assert _store(settings).count() == len(sentences)  # old versions are gone, not just hidden


def test_rebuild_starts_over(settings: Settings) -> None:
    index_corpus(settings.index)
    report = index_corpus(settings.index, rebuild=True)
    assert len(report.added) == 5 and report.sentences_embedded > 0


def test_bad_files_are_skipped_with_a_reason_and_nothing_else_is_lost(
    settings: Settings, corpus: Path
) -> None:
    (corpus / "empty.txt").write_text("   \n", "utf-8")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02PNG")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 au lait est bon.".encode("latin-1"))
    (corpus / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not an article format: left alone
    report = index_corpus(settings.index)
    reasons = {s.file: s.reason for s in report.skipped}
    assert reasons["empty.txt"] == "empty"
    assert reasons["binary.txt"].startswith("binary")
    assert reasons["latin1.txt"].startswith("not UTF-8")
    assert "photo.png" not in reasons
    assert len(report.added) == 5


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d", corpus_dir=tmp_path / "nope")
    with pytest.raises(CorpusError, match="does not exist"):
        index_corpus(s.index)


def test_reading_before_indexing_says_run_qa_index(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="qa index"):
        _store(settings)


def test_embedding_model_mismatch_names_rebuild(settings: Settings) -> None:
    index_corpus(settings.index)
    with pytest.raises(IndexMismatchError, match="qa index --rebuild"):
        Store(settings.index, "onnx:some-other-model", 768)


def test_second_writer_gets_index_is_locked(settings: Settings) -> None:
    with writer_lock(settings.index), pytest.raises(IndexLockedError, match="locked"):
        index_corpus(settings.index)


def test_uncommitted_sentences_are_invisible_and_swept(settings: Settings) -> None:
    """What a crash between writing sentences and committing the manifest leaves behind."""
    index_corpus(settings.index)
    store = _store(settings)
    before = len(store.all_sentences()[0])
    ghost = Sentence("ghost.txt", 1, 0, 20, "A half-written article.")
    store._sent.upsert(  # the first half of put_article, without the manifest commit
        ids=[f"{ghost.id}@deadbeef"],
        embeddings=[make_embedder(settings.index, settings.llm).embed([ghost.text])[0].tolist()],
        documents=[ghost.text],
        metadatas=[
            {"sid": ghost.id, "file": ghost.file, "n": 1, "start": 0, "end": 20, "version": "deadbeef"}
        ],
    )
    assert len(store.all_sentences()[0]) == before
    assert all(
        h.sentence.file != "ghost.txt"
        for h in store.query(make_embedder(settings.index, settings.llm).embed([ghost.text])[0], 5)
    )
    assert store.sweep() == 1
    assert store.count() == before


# ---- the Retriever's memory-mapped reader files ---------------------------------------------------------
QUESTION = "Who confirmed that Imam Sahib district was in Taliban hands?"


def test_retriever_reads_sentences_from_reader_files_that_a_second_load_reuses(settings: Settings) -> None:
    from qa.retrieve import Retriever

    index_corpus(settings.index)
    first = Retriever(settings)
    folders = [p for p in (settings.index.data_dir / "readers").iterdir() if not p.name.startswith(".")]
    assert (
        len(folders) == 1
        and (folders[0] / "vectors.npy").exists()
        and (folders[0] / f"bm25-{BM25_FORMAT}").is_dir()
    )
    made = {p.name: p.stat().st_mtime_ns for p in folders[0].iterdir()}
    second = Retriever(settings)
    assert {p.name: p.stat().st_mtime_ns for p in folders[0].iterdir()} == made  # reused, not rewritten
    stored, _ = _store(settings).all_sentences()
    assert list(first.sentences) == list(second.sentences) == stored
    s = second.sentence("003_a1a1630b6159c364.txt#10")
    assert (
        s is not None
        and s.text
        == "Taliban spokesman Zabihullah Mujahed confirmed Imam Sahib district was in Taliban hands."
    )
    assert second.sentence("003_a1a1630b6159c364.txt#999") is None and second.sentence("nope.txt#1") is None
    assert second.sentences[-1] == stored[-1]
    sentences = second.file_sentences("003_a1a1630b6159c364.txt")
    assert [x.n for x in sentences] == sorted(x.n for x in stored if x.file == "003_a1a1630b6159c364.txt")
    assert second.neighbours(sentences[0])[0] is None and second.neighbours(sentences[-1])[1] is None
    assert second.neighbours(sentences[1]) == (sentences[0], sentences[2])
    assert second.file_sentences("nope.txt") == []
    top = second.retrieve(QUESTION).hits[0].sentence
    assert "Zabihullah Mujahed confirmed" in top.text and "Imam Sahib" in top.text
    assert second.idf("zzzzunseen") > second.idf("taliban") > 0


def test_a_commit_makes_new_reader_files_and_refresh_reads_them(settings: Settings, corpus: Path) -> None:
    from qa.retrieve import Retriever

    index_corpus(settings.index)
    retriever = Retriever(settings)
    (corpus / "000_f9686eb01d8f09a5.txt").write_text(
        "The river flooded the old mill on Tuesday, officials said.\n", "utf-8"
    )
    index_corpus(settings.index)
    retriever.refresh()
    assert [s.text for s in retriever.file_sentences("000_f9686eb01d8f09a5.txt")] == [
        "The river flooded the old mill on Tuesday, officials said."
    ]
    assert (
        retriever.retrieve("What flooded the old mill?").hits[0].sentence.file == "000_f9686eb01d8f09a5.txt"
    )
    folders = [p for p in (settings.index.data_dir / "readers").iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1  # the old key's files were removed


def test_while_a_writer_holds_the_store_the_retriever_answers_from_its_reader_files(
    settings: Settings,
) -> None:
    from qa.retrieve import Retriever

    index_corpus(settings.index)
    retriever = Retriever(settings)
    before = [h.sentence.id for h in retriever.retrieve(QUESTION).hits[:5]]
    with writer_lock(settings.index):  # a flock: a reader in this process is kept out of the files as well
        during = retriever.retrieve(QUESTION)
        retriever.refresh()
    assert "Zabihullah Mujahed confirmed" in during.hits[0].sentence.text
    assert [h.sentence.id for h in during.hits[:5]] == before  # exact cosine over the mapped vectors


def test_reader_files_after_a_change_copy_unchanged_articles_and_equal_a_fresh_build(
    settings: Settings, corpus: Path
) -> None:
    from qa.retrieve import Retriever

    index_corpus(settings.index)
    retriever = Retriever(settings)
    changed = corpus / "000_f9686eb01d8f09a5.txt"
    changed.write_text(
        changed.read_text("utf-8") + "\nA closing sentence about the road to Kunduz.\n", "utf-8"
    )
    (corpus / "004_b46bcfd9b799a991.txt").unlink()
    index_corpus(settings.index)
    retriever.refresh()  # copies three articles from the earlier reader files, reads one from the store
    assert retriever.file_sentences("000_f9686eb01d8f09a5.txt")[-1].text == (
        "A closing sentence about the road to Kunduz."
    )
    assert retriever.file_sentences("004_b46bcfd9b799a991.txt") == []
    shutil.rmtree(settings.index.data_dir / "readers")
    fresh = Retriever(settings)  # everything read from the store and tokenized again
    assert list(retriever.sentences) == list(fresh.sentences) == _store(settings).all_sentences()[0]
    for q in (QUESTION, "What did the road to Kunduz have?", "How many districts fell since May 1?"):
        got, want = retriever.retrieve(q), fresh.retrieve(q)
        assert [(h.sentence.id, h.score) for h in got.hits] == [(h.sentence.id, h.score) for h in want.hits]
    assert [retriever.idf(w) for w in ("road", "kunduz", "zzz")] == [
        fresh.idf(w) for w in ("road", "kunduz", "zzz")
    ]
