"""The chat's example questions come from the indexed articles: another folder gives other examples.

`question_from` is table-tested on parsed sentences (real spaCy); `build_examples` with a table of
answers; and `QAService.examples` end to end over two small folders indexed for real, with the model-free
pipeline deciding which candidates are kept.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.build import index_corpus
from index.sentences import Sentence
from qa.examples import build_examples, question_from
from qa.nlp import parse
from qa.service import QAService
from qa.settings import Settings
from qa.types import Answer
from ui.render import render_examples

ROOT = Path(__file__).resolve().parent.parent

HARBOUR = {
    "harbour.txt": "Mayor Elena Brandt opened the new harbour bridge in Port Alder on Saturday.\n"
    "The bridge cost 12 million euros and took three years to build.\n"
    "Engineers from Nordbau designed the steel arches of the bridge.\n"
    "Brandt said the bridge would cut travel times for 4,000 commuters.\n",
    "library.txt": "The Alder Public Library reopened on Monday after a two-year renovation.\n"
    "Librarian Tomas Reyes led the restoration of the old reading room.\n"
    "The library now holds 80,000 books and a new children's wing.\n",
}
SPACE = {
    "probe.txt": "The space agency Astra launched the Kestrel probe toward Jupiter on Tuesday.\n"
    "The Kestrel probe carries six instruments to study the moons of Jupiter.\n"
    "Chief scientist Amara Osei leads the mission team in Toulouse.\n",
    "reef.txt": "Marine biologist Lena Park discovered a new coral species off the coast of Fiji.\n"
    "The coral glows under ultraviolet light.\n"
    "Park's team published the findings in the journal Reef Science.\n",
}


@pytest.mark.parametrize(
    ("sentence", "question", "name"),
    [
        (
            "Mayor Elena Brandt opened the new harbour bridge in Port Alder on Saturday.",
            "Who opened the new harbour bridge in Port Alder on Saturday?",
            "Elena Brandt",
        ),
        # A name that modifies a common noun: the noun says what is asked for.
        (
            "The Kestrel probe carries six instruments to study the moons of Jupiter.",
            "Which probe carries six instruments to study the moons of Jupiter?",
            "Kestrel",
        ),
        ("Engineers from Nordbau designed the steel arches.", "Who designed the steel arches?", "Nordbau"),
        # "Who" takes a singular verb.
        (
            "The Greens have won three seats in the city council.",
            "Who has won three seats in the city council?",
            "Greens",
        ),
        # The article also says "the library": a library, not a who.
        (
            "The Alder Public Library reopened on Monday after a two-year renovation.",
            "Which library reopened on Monday after a two-year renovation?",
            "The Alder Public Library",
        ),
        # Subjects that name nothing, and a report whose clause has no named subject.
        ("Some reports said small groups were near the city.", None, None),
        ("He said the bridge was closed.", None, None),
        ("The bridge would cut travel times for 4,000 commuters, Mayor Elena Brandt said.", None, None),
    ],
)
def test_question_from_puts_a_question_word_in_the_subjects_place(
    sentence: str, question: str | None, name: str | None
) -> None:
    got = question_from(next(parse(sentence).sents), frozenset({"library"}))
    assert ((got.question, got.name) if got else (None, None)) == (question, name)


def _sentences(texts: dict[str, str]) -> dict[str, list[Sentence]]:
    out: dict[str, list[Sentence]] = {}
    for file, text in texts.items():
        pos, out[file] = 0, []
        for n, line in enumerate(text.splitlines(), 1):
            out[file].append(Sentence(file, n, pos, pos + len(line), line))
            pos += len(line) + 1
    return out


def _answer(question: str, short: str | None) -> Answer:
    if short is None:
        return Answer(question=question, answer="I cannot answer that from the articles.", refused=True)
    return Answer(question=question, answer=f"{short} [1].", refused=False, short_answer=short)


def test_only_questions_answered_with_the_name_taken_out_are_kept() -> None:
    sentences = _sentences(HARBOUR)
    replies = {
        "Who opened the new harbour bridge in Port Alder on Saturday?": "Elena Brandt",
        "Who designed the steel arches of the bridge?": "Port Alder",  # the wrong name: dropped
        "Which library reopened on Monday after a two-year renovation?": None,  # refused: dropped
        "Who led the restoration of the old reading room?": "Librarian Tomas Reyes",
    }
    asked: list[str] = []

    def ask(q: str) -> Answer:
        asked.append(q)
        return _answer(q, replies.get(q))

    got = build_examples(list(sentences), lambda f: sentences[f], ask)
    assert got == [
        "Who opened the new harbour bridge in Port Alder on Saturday?",
        "Who led the restoration of the old reading room?",
    ]
    assert set(replies) <= set(asked)


def test_examples_of_the_same_answer_are_not_repeated() -> None:
    texts = {
        "a.txt": "Mayor Elena Brandt opened the new harbour bridge in Port Alder on Saturday.\n",
        "b.txt": "Mayor Elena Brandt closed the old ferry line across the bay in March.\n",
    }
    sentences = _sentences(texts)
    got = build_examples(list(sentences), lambda f: sentences[f], lambda q: _answer(q, "Elena Brandt"))
    assert got == ["Who opened the new harbour bridge in Port Alder on Saturday?"]


def _indexed(tmp_path: Path, name: str, texts: dict[str, str]) -> Settings:
    corpus = tmp_path / f"{name}-corpus"
    corpus.mkdir()
    for file, text in texts.items():
        (corpus / file).write_text(text, "utf-8")
    settings = Settings(data_dir=tmp_path / f"{name}-data", corpus_dir=corpus, llm="llamacpp")
    index_corpus(settings.index)
    return settings


def test_another_folder_gives_other_examples(tmp_path: Path) -> None:
    harbour = QAService(_indexed(tmp_path, "harbour", HARBOUR)).examples()
    space = QAService(_indexed(tmp_path, "space", SPACE)).examples()
    assert "Who opened the new harbour bridge in Port Alder on Saturday?" in harbour
    assert "Who led the restoration of the old reading room?" in harbour
    assert "Who discovered a new coral species off the coast of Fiji?" in space
    assert "Who launched the Kestrel probe toward Jupiter on Tuesday?" in space
    assert not set(harbour) & set(space)
    words = {w.lower() for w in re.findall(r"\w+", " ".join(SPACE.values()))}
    only_space = words - {w.lower() for w in re.findall(r"\w+", " ".join(HARBOUR.values()))}
    for q in harbour:
        assert not {w.lower() for w in re.findall(r"\w+", q)} & only_space, q


def test_examples_follow_the_index_when_it_changes(tmp_path: Path) -> None:
    settings = _indexed(tmp_path, "one", {"probe.txt": SPACE["probe.txt"]})
    service = QAService(settings)
    before = service.examples()
    assert "Who launched the Kestrel probe toward Jupiter on Tuesday?" in before
    assert service.examples() == before  # cached: the index has not changed
    (settings.index.corpus_dir / "reef.txt").write_text(SPACE["reef.txt"], "utf-8")
    index_corpus(settings.index)
    after = service.examples()
    assert "Who discovered a new coral species off the coast of Fiji?" in after


def test_no_index_means_no_examples_and_the_chat_says_how_to_add_articles(tmp_path: Path) -> None:
    service = QAService(Settings(data_dir=tmp_path / "empty", corpus_dir=tmp_path, llm="llamacpp"))
    assert service.examples() == []
    html = render_examples([], 0)
    assert "No articles are indexed yet" in html and "qa index --corpus DIR" in html
    assert "qa-example" not in html.replace("qa-examples", "")


SEED_NAMES = ("Taliban", "Kunduz", "Imam Sahib", "Mujahed", "Zabihullah", "Rahmani", "Inamuddin", "Amruddin")


def test_product_code_names_nothing_of_the_seeds() -> None:
    pattern = re.compile(r"\b(" + "|".join(SEED_NAMES) + r")\b", re.IGNORECASE)
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for folder in ("qa", "ui")
        for p in sorted((ROOT / folder).rglob("*.py"))
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
