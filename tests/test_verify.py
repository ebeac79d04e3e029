"""Table tests for the answer core's pure parts: question analysis, span location, role, negation,
clause-by-clause support of a free sentence, scaffolding. Expected values are written by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from qa.kinds import type_fit as kind_fit
from qa.nlp import is_duration, keys, parse
from qa.question import Question, frame
from qa.settings import AnswerSettings
from qa.spans import sentence_spans
from qa.verify import claim_supported, locate, negation_agrees, role, strip_scaffolding

if TYPE_CHECKING:
    from spacy.tokens import Span


def analyse(text: str) -> Question:
    """The question's frame, as the pipeline reads it from the parse."""
    return frame(parse(text))


def type_fit(label: str, q: Question, span: Span) -> float:
    """The answer kind's fit with the default penalty for a weaker fit of the right type."""
    return kind_fit(label, q, span, AnswerSettings().kind_mismatch)


@pytest.mark.parametrize(
    ("question", "kind", "wh", "subject_asked"),
    [
        ("Who reviewed the withdrawal?", "person", "who", True),
        ("Who is Ada Lovelace?", "identity", "who", False),
        ("Who is the mayor of the town?", "person", "who", False),
        ("When did Hervé die?", "date", "when", False),
        ("In what year did the school open?", "date", "what", False),
        ("Where was the treaty signed?", "place", "where", False),
        ("How many soldiers surrendered?", "number", "how many", False),
        ("How far is the dam from the town?", "measure", "how far", False),
        ("Why did the bridge close?", "reason", "why", False),
        ("How did the council pay for the repairs?", "manner", "how", False),
        ("Which river flows through the city?", "thing", "which", True),
        ("Is the museum open?", "yesno", "", False),
    ],
)
def test_question_form(question: str, kind: str, wh: str, subject_asked: bool) -> None:
    q = analyse(question)
    assert (q.kind, q.wh) == (kind, wh)
    if kind == "person":
        assert q.subject_asked is subject_asked


def test_which_noun_and_predicate() -> None:
    q = analyse("Which river flows through the city?")
    assert "river" in q.head
    assert "flow" in q.predicate
    assert {"citi", "river"} <= q.focus


@pytest.mark.parametrize(
    ("question", "predicate"),
    [
        # with no content verb, the noun the copula asks about is the predicate, when something hangs on it
        ("What was the cause of the outage?", {"caus"}),
        ("What was the reason for the delay?", {"reason"}),
        ("What is the name of the river?", set()),  # "name" is a type word, not a predicate
        ("What year was it?", set()),
        ("What was the answer?", set()),  # nothing hangs on the noun: no predicate to find
        # "what caused X": X is the predicate too, the event whose cause is asked
        ("What caused the outage?", {"outag", "caus"}),
        ("What caused the ferry to sink?", {"sink", "caus"}),
        ("Who caused the outage?", {"caus"}),  # a person is asked for: the verb stays the predicate
    ],
)
def test_noun_predicate(question: str, predicate: set[str]) -> None:
    assert analyse(question).predicate == predicate


@pytest.mark.parametrize(
    ("question", "attribute"),
    [
        ("What is the population of the town?", "population"),
        ("What was the cause of the outage?", "cause"),
        ("What is the name of the river?", ""),  # a type word
        ("What caused the outage?", ""),  # a verb is the predicate
    ],
)
def test_the_attribute_a_copula_question_asks_for(question: str, attribute: str) -> None:
    assert analyse(question).attribute == attribute


def test_a_noun_predicate_rejects_the_speaker() -> None:
    q = analyse("What was the cause of the outage?")
    sentence = "The engineer Ada Brandt said the outage had been caused by a faulty valve."
    doc = parse(sentence)
    cause, speaker = locate("a faulty valve", sentence), locate("Ada Brandt", sentence)
    assert cause is not None and speaker is not None
    assert role(q, doc, *cause) is True
    assert role(q, doc, *speaker) is False


@pytest.mark.parametrize(
    ("a", "b"),
    [("died", "die"), ("married", "marry"), ("districts", "district"), ("ran", "run"), ("Hervé", "Herve")],
)
def test_inflections_and_accents_share_a_key(a: str, b: str) -> None:
    assert keys(parse(a)[0]) & keys(parse(b)[0])


@pytest.mark.parametrize(
    ("answer", "sentence", "span"),
    [
        ("1185", "The castle was built in 1185 by the count.", (24, 28)),
        ("1185.", "The castle was built in 1185 by the count.", (24, 28)),
        ("“the count”", "The castle was built in 1185 by the count.", (32, 41)),
        ("Herve Dubois", "It was Hervé Dubois who signed.", (7, 19)),
        ("THE COUNT", "The castle was built in 1185 by the count.", (32, 41)),
        ("count of Flanders", "The castle was built in 1185 by the count.", None),
        ("ount", "The castle was built in 1185 by the count.", (37, 41)),  # an exact substring is found
        ("cast", "The Castle was built in 1185.", None),  # folded matches are whole words
        ("", "The castle was built.", None),
    ],
)
def test_locate(answer: str, sentence: str, span: tuple[int, int] | None) -> None:
    assert locate(answer, sentence) == span
    if span is not None:
        assert sentence[span[0] : span[1]]


SPOKESMAN = "The spokesman said the minister has regularly reviewed the withdrawal."


@pytest.mark.parametrize(
    ("question", "sentence", "phrase", "expected"),
    [
        # the span must be an argument of the question's predicate, not of "said"
        ("Who reviewed the withdrawal?", SPOKESMAN, "The spokesman", False),
        ("Who reviewed the withdrawal?", SPOKESMAN, "the minister", True),
        ("What has the minister reviewed?", SPOKESMAN, "the withdrawal", True),
        # another verb of a coordinated clause holds the wrong date
        ("When was the abbey founded?", "The abbey was founded in 1185 and expanded in 1220.", "1185", True),
        ("When was the abbey founded?", "The abbey was founded in 1185 and expanded in 1220.", "1220", False),
        # a paraphrase: the sentence does not use the predicate, so the parse cannot tell
        ("Who reviewed the withdrawal?", "The minister examined the pullout.", "The minister", None),
        # a participle that the parser hangs on the name it is said of
        (
            "Who killed a dragon?",
            "The legend tells of the hero Siegfried killing a dragon on the Drachenfels (Siebengebirge).",
            "Siegfried",
            True,
        ),
        # the predicate's noun names the span, in either order ("the attackers, X" / "X, the attackers")
        ("Who attacked the convoy?", "The attackers, two gunmen, fled on foot.", "two gunmen", True),
        (
            "Who attacked the convoy?",
            "Two gunmen, the attackers of the convoy, fled on foot.",
            "Two gunmen",
            True,
        ),
        ("Who attacked the convoy?", "Two gunmen, the attackers of the convoy, fled on foot.", "foot", False),
        # the span and the predicate noun are the two sides of one copula, in either order
        (
            "What caused the outage?",
            "Engineers said a faulty valve was the likely cause.",
            "a faulty valve",
            True,
        ),
        (
            "What caused the outage?",
            "Engineers said that the cause was a faulty valve.",
            "a faulty valve",
            True,
        ),
        ("What caused the outage?", "Engineers said that the cause was a faulty valve.", "Engineers", False),
        # a clause that modifies the predicate belongs to it: it says why
        (
            "Why was the bridge closed?",
            "The council said the bridge was closed because the cables had rusted.",
            "because the cables had rusted",
            True,
        ),
        (
            "Why was the bridge closed?",
            "The council said the bridge was closed because the cables had rusted.",
            "The council",
            False,
        ),
    ],
)
def test_role(question: str, sentence: str, phrase: str, expected: bool | None) -> None:
    doc = parse(sentence)
    where = locate(phrase, sentence)
    assert where is not None
    assert role(analyse(question), doc, *where) is expected


@pytest.mark.parametrize(
    ("question", "sentence", "agrees"),
    [
        ("Who entered the city?", "The rebels had not entered the city.", False),
        ("Who did not enter the city?", "The rebels had not entered the city.", True),
        ("Who entered the city?", "The rebels entered the city on Monday.", True),
        ("Who entered the city?", "The rebels were near the outskirts.", True),  # no predicate: no verdict
    ],
)
def test_negation_agrees(question: str, sentence: str, agrees: bool) -> None:
    assert negation_agrees(analyse(question), parse(sentence)) is agrees


@pytest.mark.parametrize(
    ("claim", "evidence", "ok"),
    [
        # every word is in the evidence, but there the minister reviews, not the spokesman
        ("The spokesman has been reviewing the pace of the withdrawal.", SPOKESMAN, False),
        ("The spokesman reviewed the withdrawal.", SPOKESMAN, False),
        ("The minister has reviewed the withdrawal.", SPOKESMAN, True),
        # polarity
        ("The rebels entered the city.", "The rebels had not entered the city.", False),
        ("The rebels did not enter the city.", "The rebels had not entered the city, he said.", True),
        # numbers and names must be there
        ("53 soldiers were killed.", "147 soldiers were killed and 50 wounded.", False),
        ("Hervé Dubois signed the deal.", "Marc Lenoir signed the deal on Friday.", False),
        ("Herve signed the deal.", "Hervé signed the deal on Friday.", True),
        # most of its words
        ("The deal was signed after long talks about fishing rights.", "The deal was signed.", False),
    ],
)
def test_claim_supported_clause_by_clause(claim: str, evidence: str, ok: bool) -> None:
    check = claim_supported(parse(claim), parse(evidence), AnswerSettings().min_claim_coverage)
    assert check.ok is ok, check.reason


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<evidence>\nAnswer: 1185 [3]", "1185 [3]"),
        ("Answer: in 1185 [3].", "in 1185 [3]."),
        ("</evidence> Question: When was it built?\nAnswer: 1185 [1]", "1185 [1]"),
        ("<|im_start|>assistant 1185 [2]<|im_end|>", "assistant 1185 [2]"),
        ("1185 [3].", "1185 [3]."),
    ],
)
def test_scaffolding_never_reaches_the_user(raw: str, clean: str) -> None:
    assert strip_scaffolding(raw) == clean


def test_a_name_no_article_mentions_refuses_and_says_which() -> None:
    from qa.decide import unmentioned

    class Ev:  # the two attributes `unmentioned` reads
        def __init__(self, file: str, text: str) -> None:
            self.sentence = type("S", (), {"file": file})()
            self.file_text = text

    q = analyse("Who won the 2022 football World Cup in Qatar?")
    evidence = [Ev("a.txt", "talks were held in qatar on monday."), Ev("b.txt", "the cup final was in june.")]
    # "cup" is in b.txt but "world" is in no article; "qatar" is in a.txt
    assert unmentioned(q, evidence) == ["2022", "World Cup"]
    assert "qatar" not in unmentioned(q, evidence)


@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("Which company runs the plant?", {"ORG", "NORP"}),
        ("Which agency measured the air?", {"ORG", "NORP"}),
        ("Which river flows through the city?", set()),
        ("What time did the ferry leave?", {"TIME"}),
        ("What year did the school open?", {"DATE", "TIME"}),
    ],
)
def test_the_type_noun_sets_the_answer_labels(question: str, labels: set[str]) -> None:
    assert set(analyse(question).labels) == labels


@pytest.mark.parametrize(
    ("sentence", "phrase", "duration"),
    [
        ("Service resumed on Monday after a six-week strike.", "six-week", True),
        ("Service resumed on Monday after a six-week strike.", "Monday", False),
        ("The strike lasted six weeks.", "six weeks", True),
        ("The bridge opened two years ago.", "two years ago", False),
        ("Three months later the bridge closed.", "Three months later", False),
        ("The contract runs until 2029.", "2029", False),
        ("The crossing takes 25 minutes in calm weather.", "25 minutes", True),
        ("The meeting is on the second Thursday of each month.", "the second Thursday of each month", False),
    ],
)
def test_a_stretch_of_time_is_told_from_a_point_in_it(sentence: str, phrase: str, duration: bool) -> None:
    doc = parse(sentence)
    start = sentence.index(phrase)
    span = doc.char_span(start, start + len(phrase), alignment_mode="expand")
    assert span is not None
    assert is_duration(span) is duration


@pytest.mark.parametrize(
    ("question", "sentence", "best"),
    [
        # "when" wants the point, "how long" the stretch, from the same sentence.
        (
            "When did the ferry resume service?",
            "The ferry resumed service on Monday after a six-week strike.",
            "Monday",
        ),
        ("How long did the strike last?", "The strike ended in 2024 after six weeks.", "six weeks"),
    ],
)
def test_when_prefers_a_point_in_time_and_how_long_a_stretch(question: str, sentence: str, best: str) -> None:
    q = analyse(question)
    doc = parse(sentence)
    fits = {e.text: type_fit(e.label_, q, e) for e in doc.ents if e.label_ in ("DATE", "TIME")}
    assert max(fits, key=lambda t: fits[t]) == best, fits


@pytest.mark.parametrize(
    ("question", "verb"),
    [
        ("What did the councillor say?", {"say"}),
        ("What did the minister promise?", {"promis"}),
        ("What did residents complain about?", {"complain"}),
        ("What is the budget?", set()),
        ("Who said the bridge was closed?", set()),
    ],
)
def test_the_verb_whose_object_is_asked(question: str, verb: set[str]) -> None:
    assert set(analyse(question).object_of) == verb


@pytest.mark.parametrize(
    ("question", "cause"),
    [
        ("What caused the outage?", True),
        ("What was the cause of the outage?", False),
        ("What did the storm cause?", False),
    ],
)
def test_what_caused_asks_for_a_cause(question: str, cause: bool) -> None:
    assert analyse(question).cause is cause


def test_what_caused_takes_a_reason_clause_or_the_thing_that_did_it() -> None:
    q = analyse("What caused the delay of the roadworks?")
    sentence = "The mayor said the works had been delayed because a supplier went bankrupt."
    doc = parse(sentence)
    spans = {sentence[a:b]: lab for a, b, lab in sentence_spans(doc, q, 12)}
    clause = "because a supplier went bankrupt"
    assert spans.get(clause) == "CLAUSE", spans
    span = doc.char_span(sentence.index(clause), sentence.index(clause) + len(clause))
    assert span is not None and type_fit("CLAUSE", q, span) > 0
    where = locate(clause, sentence)
    mayor = locate("The mayor", sentence)
    assert where is not None and mayor is not None
    assert role(q, doc, *where) is True
    assert role(q, doc, *mayor) is False  # who said it did not cause it


@pytest.mark.parametrize(
    ("question", "sentence", "clause"),
    [
        (
            "What did the councillor say?",
            "The councillor said the roof work should have been tendered separately.",
            "the roof work should have been tendered separately",
        ),
        (
            "What did the minister promise?",
            "The minister promised that every school would reopen by May.",
            "every school would reopen by May",
        ),
        # a yes/no question is answered by a clause that states the matter
        (
            "Have the two leaders met in person before?",
            "The talks will be their first face-to-face meeting.",
            "The talks will be their first face-to-face meeting",
        ),
        (
            "Did the army retake the town?",
            "Officials said the army retook the town on Monday.",
            "the army retook the town on Monday",
        ),
    ],
)
def test_the_clause_that_answers_is_a_candidate(question: str, sentence: str, clause: str) -> None:
    q = analyse(question)
    doc = parse(sentence)
    spans = {sentence[a:b]: lab for a, b, lab in sentence_spans(doc, q, 12)}
    assert spans.get(clause) == "CLAUSE", spans
    start = sentence.index(clause)
    span = doc.char_span(start, start + len(clause), alignment_mode="expand")
    assert span is not None and type_fit("CLAUSE", q, span) == 1.0


@pytest.mark.parametrize(
    ("question", "given"),
    [
        ("What did Henk Jansen say?", {"henk", "jansen"}),
        ("What did the mayor promise?", {"mayor"}),
        ("Who cut the ribbon?", set()),  # the subject is asked
        ("What ends at this bend in the river?", set()),
    ],
)
def test_the_subject_the_question_gives(question: str, given: set[str]) -> None:
    assert set(analyse(question).given) == given


@pytest.mark.parametrize(
    ("question", "sentence", "phrase", "fit"),
    [
        # "how many" counts things: a sum of money is a weaker fit than the count beside it ...
        (
            "How many people attended the opening?",
            "The hall, which cost 14.5 million euros, opened in front of about 800 residents.",
            "14.5 million",
            0.25,
        ),
        (
            "How many people attended the opening?",
            "The hall, which cost 14.5 million euros, opened in front of about 800 residents.",
            "about 800",
            1.0,
        ),
        ("How many people came?", "Tickets cost $40 and 300 people came.", "40", 0.25),  # spaCy: MONEY "40"
        # ... unless money is what is counted; "how much" asks for sums.
        ("How many euros did the hall cost?", "The hall cost 14.5 million euros.", "14.5 million", 1.0),
        ("How much did the hall cost?", "The hall cost 14.5 million euros.", "14.5 million", 1.0),
        # a measure, a sum or a share is no point in time; a bare number may be a year
        ("At what time did the ship stop?", "The ship stopped 0.4 km from the pier.", "0.4 km", -1.0),
        ("On what day did the ship stop?", "The ship stopped at 3:40 p.m. on Friday.", "3:40 p.m.", 0.25),
        ("On what day did the ship stop?", "The ship stopped at 3:40 p.m. on Friday.", "Friday", 1.0),
        ("When did the ship stop?", "The ship stopped at 3:40 p.m. on Friday.", "3:40 p.m.", 1.0),
        ("When did the fund close?", "The fund closed with $5 million left.", "$5 million", -1.0),
        ("When was the bridge built?", "The bridge was built in 1931.", "1931", 1.0),
        # "how old" / "how long": a number that counts things, not a unit, is no age or length
        ("How old were the children?", "The trial enrolled 4,800 children aged three years.", "4,800", 0.25),
        ("How old is the singer?", "The singer, 42, lives in Leeds.", "42", 1.0),
        ("How long did the strike last?", "The strike lasted six weeks.", "six weeks", 1.0),
        ("How long is the lake?", "The lake consists of three bodies of water.", "three", 0.25),
        (
            "How far did the sea level drop?",
            "Six major ice ages have occurred, in which sea level dropped 120 m.",
            "Six",
            0.25,
        ),
        (
            "How far did the sea level drop?",
            "Six major ice ages have occurred, in which sea level dropped 120 m.",
            "120",
            1.0,
        ),
        ("How tall is the tower?", "The tower is 300 metres tall.", "300 metres", 1.0),
        ("How long is the river?", "The river runs for 1,230 kilometres.", "1,230 kilometres", 1.0),
        # "how much" asks for an amount, not a count of things; "how many X" for a count of X, not of
        # another kind of the same thing (WordNet: fighters and civilians are both people)
        ("How much will the repair cost?", "The crash killed two people.", "two", 0.25),
        ("How much water was used?", "The crews used 500 litres of water.", "500", 1.0),
        ("How many civilians were killed?", "Police killed 50 fighters.", "50", 0.25),
        ("How many people were hurt?", "Four firefighters were injured.", "Four", 1.0),
        ("How many civilians were killed?", "Three civilians were killed.", "Three", 1.0),
        # who: a person's name; never a nationality word set before a noun, nor a sum (qa/kinds/person.py)
        ("Who signed the treaty?", "Dutch officials and Ada Brandt signed the treaty.", "Ada Brandt", 1.0),
        ("Who signed the treaty?", "Dutch officials and Ada Brandt signed the treaty.", "Dutch", -1.0),
        ("Who paid for the bridge?", "The city paid 40 million euros for the bridge.", "40 million", -1.0),
        # where: a place, never a measure (qa/kinds/place.py)
        ("Where was the bridge built?", "The bridge was built in Porto, 3 km from the sea.", "Porto", 1.0),
        ("Where was the bridge built?", "The bridge was built in Porto, 3 km from the sea.", "3 km", -1.0),
        # how long (qa/kinds/measure.py) and when (qa/kinds/when.py)
        ("How long is the bridge?", "The bridge is 400 metres long and has 12 pillars.", "400 metres", 1.0),
        ("When was the bridge opened?", "The bridge opened on 4 May 1998.", "4 May 1998", 1.0),
    ],
)
def test_the_type_fit_of_a_figure(question: str, sentence: str, phrase: str, fit: float) -> None:
    """1 for the asked-for type, answer.kind_mismatch (0.25) for the right label but the wrong kind, -1 for
    a span that cannot be the answer."""
    q = analyse(question)
    doc = parse(sentence)
    (ent,) = [e for e in doc.ents if e.text == phrase]
    assert type_fit(ent.label_, q, ent) == fit


@pytest.mark.parametrize(
    ("sentence", "present", "absent"),
    [
        # a noun's subtree never starts or ends inside a bracket it does not close
        (
            "The legend tells of the hero Siegfried killing a dragon on the Drachenfels (Siebengebirge).",
            {"Siegfried", "Siebengebirge", "Siegfried killing a dragon on the Drachenfels (Siebengebirge)"},
            {"(Siebengebirge", "Drachenfels (Siebengebirge", "Siebengebirge)"},
        ),
        (
            "The fee (about $5) was paid by the city council of Leeds.",
            {"city council of Leeds", "about $5", "fee (about $5)"},
            {"fee (about $5", "$5)"},
        ),
    ],
)
def test_candidate_spans_close_their_brackets(sentence: str, present: set[str], absent: set[str]) -> None:
    q = analyse("Who killed a dragon?")
    texts = {sentence[a:b] for a, b, _ in sentence_spans(parse(sentence), q, 12)}
    assert present <= texts, texts
    assert not absent & texts
    for t in texts:
        assert t.count("(") == t.count(")") and t == t.strip(" ,.;:"), t


@pytest.mark.parametrize(
    ("question", "sentence", "phrase", "fit"),
    [
        # a phrase around a measure is no time; a phrase around a bare number may be a year
        (
            "At what time did the ship stop?",
            "It came to rest on rocks 0.4 km from the pier.",
            "rocks 0.4 km from the pier",
            -1.0,
        ),
        ("In what year was the abbey built?", "The abbey of 1185 still stands.", "abbey of 1185", 0.0),
        # a sum of money is nobody and nowhere, even where the recogniser leaves the currency out of it
        (
            "Who will pay a third of the cost?",
            "The cost is put at 410 million euros, of which the region will pay a third.",
            "410 million euros",
            -1.0,
        ),
        (
            "Who will pay a third of the cost?",
            "The cost is 410 million euros; the region pays a third.",
            "the region",
            0.0,
        ),
        (
            "Who found the body?",
            "Two hikers found the body on Sunday.",
            "Two hikers",
            0.0,
        ),  # a count of people may be
    ],
)
def test_the_type_fit_of_a_phrase(question: str, sentence: str, phrase: str, fit: float) -> None:
    doc = parse(sentence)
    start = sentence.index(phrase)
    span = doc.char_span(start, start + len(phrase))
    assert span is not None and type_fit("NP", analyse(question), span) == fit


@pytest.mark.parametrize(
    ("sentence", "times"),
    [
        # times of day the entity recogniser misses are candidates for a question that asks for a time
        ("The ferry hit rocks at 7.15am on Wednesday, 1.5 km from the pier.", {"7.15am"}),
        ("It left at 8.15 a.m. with 122 passengers.", {"8.15 a.m."}),
        ("It carried 122 passengers and 18 crew.", set()),
        ("The mayor cut the ribbon at 10:30am in front of about 300 residents.", {"10:30am"}),  # spaCy: ORG
    ],
)
def test_clock_times_are_candidates(sentence: str, times: set[str]) -> None:
    spans = sentence_spans(parse(sentence), analyse("At what time did the ferry hit the rocks?"), 12)
    assert {sentence[a:b] for a, b, lab in spans if lab == "TIME"} == times


@pytest.mark.parametrize(
    ("sentence", "measure"),
    [
        # a unit per unit written without spaces is one measure, not the part before the slash
        ("Gusts of up to 120 km/h closed the coastal road.", "120 km/h"),
        ("Patients were given 5 mg/kg of the drug.", "5 mg/kg"),
        ("The road is 120 km long.", "120 km"),
    ],
)
def test_a_measure_per_unit_is_one_span(sentence: str, measure: str) -> None:
    spans = sentence_spans(parse(sentence), analyse("How fast were the gusts?"), 12)
    assert measure in {sentence[a:b] for a, b, _ in spans}
    assert not any(sentence[a:b] == measure.split("/")[0] for a, b, _ in spans if "/" in measure)


def test_a_yes_no_question_is_never_answered_by_a_name() -> None:
    q = analyse("Did the army retake the town?")
    sentence = "Officials in Kunduz said the army retook the town on Monday."
    doc = parse(sentence)
    fits = {e.text: type_fit(e.label_, q, e) for e in doc.ents}
    assert fits and all(f == -1.0 for f in fits.values()), fits


def test_a_clause_under_a_negated_verb_is_no_answer_alone() -> None:
    q = analyse("Did the council say the bridge needs more work?")
    sentence = "The council did not say whether the bridge will need further work next year."
    clauses = {sentence[a:b] for a, b, lab in sentence_spans(parse(sentence), q, 12) if lab == "CLAUSE"}
    assert clauses and all("did not say" in c for c in clauses), clauses
