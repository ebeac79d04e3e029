"""The real pipeline on small hand-written corpora with opaque file names, none of them the seeds: sources
that disagree are shown as versions, one article that gives two values for two things is no disagreement,
a count is not a sum of money, the answer is never the one the question names, and a why or what-caused
question is answered by the reason the article gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.build import index_corpus
from qa.decide import Ballot, decide
from qa.pipeline import Pipeline
from qa.settings import Settings
from tests.conftest import RecordingLLM

ONE = (
    "The renovation of the Harbourside library cost 14.5 million euros, the city said on Monday. "
    "A borrowing card costs 12 euros a year. "
    "Mayor Lotte Vermeer opened the library in front of about 800 residents. "
    "Councillor Henk Jansen said the council should have tendered the roof work separately. "
    "Jansen said the opening had been delayed by two months because the heating failed an inspection.\n"
)
TWO = "The Harbourside library's renovation cost 14.5 million euros in total, officials said.\n"
THREE = "According to the auditor, the renovation of the Harbourside library cost 16 million euros.\n"


def _pipeline(root: Path, files: dict[str, str]) -> Pipeline:
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, "utf-8")
    settings = Settings(data_dir=root / "data", corpus_dir=corpus, llm="llamacpp", refine="never")
    index_corpus(settings.index)
    return Pipeline(settings, llm=RecordingLLM())


@pytest.fixture(scope="module")
def agreeing(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return _pipeline(tmp_path_factory.mktemp("agree"), {"k81.txt": ONE, "q07.txt": TWO})


@pytest.fixture(scope="module")
def disagreeing(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return _pipeline(tmp_path_factory.mktemp("disagree"), {"k81.txt": ONE, "q07.txt": TWO, "z3.txt": THREE})


def test_two_values_of_two_things_in_one_article_are_no_conflict(agreeing: Pipeline) -> None:
    answer = agreeing.ask("How much did the renovation of the library cost?")
    assert not answer.refused
    assert "14.5 million" in answer.short_answer
    assert answer.conflicts == []
    card = agreeing.ask("How much does a borrowing card cost?")
    assert "12" in card.short_answer and card.conflicts == []


def test_sources_that_disagree_are_shown_as_versions_counted_in_files(disagreeing: Pipeline) -> None:
    answer = disagreeing.ask("How much did the renovation of the library cost?")
    assert not answer.refused
    versions = [(c.value, c.files) for c in answer.conflicts]
    assert len(versions) == 2, versions
    (top, n_top), (other, n_other) = versions
    assert "14.5 million" in top and n_top == 2
    assert "16 million" in other and n_other == 1
    cited = {answer.citations[k - 1].file for c in answer.conflicts for k in c.citations}
    assert cited == {"k81.txt", "q07.txt", "z3.txt"}


def chosen(pipeline: Pipeline, question: str) -> str:
    """The span the rules choose (the short answer when it is clear; the answer quotes its sentence when
    it is not)."""
    prep = pipeline.prepare(question)
    assert prep is not None
    d = decide(Ballot(prep.question, prep.candidates, prep.sentences, pipeline.weights))
    assert d.best is not None, d.reason
    return d.best.text


def test_a_count_is_not_a_sum_of_money(agreeing: Pipeline) -> None:
    question = "How many people attended the opening of the library?"
    assert "800" in chosen(agreeing, question)
    answer = agreeing.ask(question)
    assert "800" in answer.answer and "million" not in answer.short_answer, answer.answer


def test_the_answer_is_not_the_one_the_question_names(agreeing: Pipeline) -> None:
    span = chosen(agreeing, "What did Henk Jansen say?")
    assert "Jansen" not in span
    assert span.startswith("the council should have tendered the roof work"), span


def test_further_evidence_gives_rival_versions_but_never_the_answer(disagreeing: Pipeline) -> None:
    """With one group read for the answer, the rival version comes from the groups read past it
    (`conflict_pool`) or not at all; the answer is the same either way."""
    question = "How much did the renovation of the library cost?"
    narrow = disagreeing.settings.replaced(top_k=1, propose_pool=1, conflict_pool=1)
    wide = disagreeing.settings.replaced(top_k=1, propose_pool=1, conflict_pool=16)
    alone = Pipeline(narrow, llm=RecordingLLM(), retriever=disagreeing.retriever).ask(question)
    versus = Pipeline(wide, llm=RecordingLLM(), retriever=disagreeing.retriever).ask(question)
    assert not alone.refused and alone.conflicts == []
    assert [c.value for c in versus.conflicts][:1] == [alone.short_answer]
    assert len(versus.conflicts) == 2, versus.answer


REASONS = ["Why was the opening delayed?", "What caused the delay of the opening?"]


@pytest.mark.parametrize("question", REASONS)
def test_a_reason_is_answered_by_the_clause_that_gives_it(agreeing: Pipeline, question: str) -> None:
    span = chosen(agreeing, question)
    assert "because the heating failed an inspection" in span
    assert "Jansen" not in span  # who said it is not why
    answer = agreeing.ask(question)
    assert not answer.refused, answer.notes
    if answer.mode == "quoted":  # not clear enough for a short answer: its sentence, quoted and cited
        assert "because the heating failed an inspection" in answer.citations[0].quote
        return
    (cited,) = [c for c in answer.citations if c.answer_start is not None]
    text = (Path(agreeing.settings.index.corpus_dir) / cited.file).read_text("utf-8")
    assert text[cited.answer_start : cited.answer_end] == "because the heating failed an inspection"


def test_an_attribute_no_article_gives_is_refused_and_said_so(agreeing: Pipeline) -> None:
    answer = agreeing.ask("What is the population of Harbourside?")
    assert answer.refused
    assert "never mention the population" in answer.notes[0]


ROCKFALL = (
    "A rockfall blocked the coast road near Velden on Sunday morning. "
    "Of the 30 people who were hurt, four were in a critical condition, the hospital said.\n"
)
BUS = "Thirty people were hurt when the rockfall struck a bus on the road to Marsden.\n"


@pytest.fixture(scope="module")
def reading(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """Two articles and a model that reads them (its reply set by each test), run after the rules."""
    root = tmp_path_factory.mktemp("reading")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "r1.txt").write_text(ROCKFALL, "utf-8")
    (corpus / "b2.txt").write_text(BUS, "utf-8")
    settings = Settings(data_dir=root / "data", corpus_dir=corpus, llm="llamacpp", refine="always")
    index_corpus(settings.index)
    return Pipeline(settings, llm=RecordingLLM())


def test_another_count_said_beside_the_models_answer_is_no_rival(reading: Pipeline) -> None:
    """ "Of the 30 hurt, four were critical": the model reads four; 30, said beside it and by the other
    article, is another fact, not a version of the answer."""
    assert isinstance(reading.llm, RecordingLLM)
    reading.llm.reply = "four [1]."
    answer = reading.ask("How many of the people who were hurt were in a critical condition?")
    assert answer.short_answer == "four", (answer.answer, answer.notes)
    assert answer.conflicts == []


def test_a_place_beside_a_cause_does_not_stand_for_it(tmp_path: Path) -> None:
    """ "What caused …?" asks for the cause: the model's "a rockfall" is the answer, and the places the
    articles name for the derailment (Velden, Marsden) are where it happened, not rival causes."""
    pipe = _pipeline(
        tmp_path,
        {
            "t1.txt": "The morning train ran into a rockfall and derailed near Velden on Sunday.\n",
            "t2.txt": "The derailment at Marsden left the line closed for a week.\n",
        },
    )
    pipe = Pipeline(pipe.settings.replaced(refine="always"), llm=RecordingLLM())
    assert isinstance(pipe.llm, RecordingLLM)
    pipe.llm.reply = "a rockfall [1]."
    answer = pipe.ask("What caused the derailment of the train?")
    assert answer.short_answer == "a rockfall", (answer.answer, answer.notes)
    assert answer.conflicts == []
