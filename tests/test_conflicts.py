"""qa/values.py, qa/rivals.py, qa/conflicts.py: answer values normalised by type, parallel statements,
versions and their wording. Every expected value below is written by hand."""

from __future__ import annotations

import math

import pytest

from qa.conflicts import group, shown, wording
from qa.rivals import a_part, beside_noun, frame, links, named_as, of_event, parallel
from qa.settings import AnswerSettings
from qa.values import Tolerance, Value, disagree, name, normalise, same

TOL = Tolerance(AnswerSettings().value_rounding, AnswerSettings().value_approximate)

KM = 1000.0
MILE = 1609.344


def v(text: str, label: str) -> Value:
    out = normalise(text, label, TOL)
    assert out is not None, text
    return out


@pytest.mark.parametrize(
    ("text", "label", "unit", "lo", "hi"),
    [
        ("1 km", "QUANTITY", "[length]", 0.9 * KM, 1.1 * KM),  # ±0.5 km of rounding, capped at ±10 %
        ("a kilometre", "QUANTITY", "[length]", 0.9 * KM, 1.1 * KM),
        ("0.6 mile", "QUANTITY", "[length]", 0.55 * MILE, 0.65 * MILE),  # one decimal: ±0.05
        ("2,000 metres", "QUANTITY", "[length]", 1800.0, 2200.0),
        ("1.2 miles", "QUANTITY", "[length]", 1.15 * MILE, 1.25 * MILE),
        ("about three miles", "QUANTITY", "[length]", 2.7 * MILE, 3.3 * MILE),  # "about": ±10 %
        ("150 minutes", "TIME", "[time]", 145 * 60.0, 155 * 60.0),
        ("two and a half hours", "DATE", "[time]", 2.45 * 3600, 2.55 * 3600),
        ("260", "CARDINAL", "", 255.0, 265.0),
        ("About 90", "CARDINAL", "", 81.0, 99.0),
        ("More than 150", "CARDINAL", "", 150.0, math.inf),
        ("Nearly 2,400", "CARDINAL", "", 2160.0, 2400.0),
        ("two", "CARDINAL", "", 1.8, 2.2),
        ("some two hundred", "CARDINAL", "", 180.0, 220.0),
    ],
)
def test_quantities_are_intervals_in_base_units(
    text: str, label: str, unit: str, lo: float, hi: float
) -> None:
    got = v(text, label)
    assert (got.kind, got.unit) == ("quantity", unit)
    assert got.lo == pytest.approx(lo) and got.hi == pytest.approx(hi)


@pytest.mark.parametrize(
    ("text", "label", "fields"),
    [
        ("Saturday 7 June", "DATE", (None, 6, 7, 5)),  # (year, month, day, weekday: Monday is 0)
        ("7 June", "DATE", (None, 6, 7, None)),
        ("June 7", "DATE", (None, 6, 7, None)),
        ("Saturday", "DATE", (None, None, None, 5)),
        ("Sunday 9 March 2025", "DATE", (2025, 3, 9, 6)),
        ("March 9", "DATE", (None, 3, 9, None)),
    ],
)
def test_dates_keep_the_fields_they_state(text: str, label: str, fields: tuple[int | None, ...]) -> None:
    assert v(text, label) == Value("date", fields=fields)


@pytest.mark.parametrize(
    "text", ["3:40 p.m.", "15:40", "3.40pm", "15.40", "about 3:40 p.m.", "around 3:40 p.m.", "some 15:40"]
)
def test_times_of_day_are_minutes_after_midnight(text: str) -> None:
    assert v(text, "TIME") == Value("time", lo=940.0, hi=940.0)  # 15 × 60 + 40


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("three days earlier", "DATE"),  # relative: it needs the article's own date
        ("between 9 a.m. and noon", "TIME"),  # a range of times, not one time nor a length
        ("thousands", "CARDINAL"),  # a count of no stated size
        ("several hundred", "CARDINAL"),
        ("hundreds of thousands", "CARDINAL"),
        ("an overheating shredder", "NP"),  # free text: two causes can both be true
        ("", "PERSON"),
    ],
)
def test_what_has_no_value_here(text: str, label: str) -> None:
    assert normalise(text, label, TOL) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Ingrid Bakker", {"ingrid", "bakker"}),
        ("Lt. Col. Markus Poelzl", {"markus", "poelzl"}),
        ("Lieutenant Colonel Markus Pölzl", {"markus", "poelzl"}),  # ö written as oe
        ("the company's", {"company"}),
        ("Hervé", {"herve"}),
    ],
)
def test_names_drop_titles_determiners_and_possessives(text: str, words: set[str]) -> None:
    assert name(text, "person") == Value("name", "person", words=frozenset(words))


@pytest.mark.parametrize(
    ("text", "label"),
    [("A7", "CARDINAL"), ("the A7", "NP"), ("N247", "PRODUCT"), ("I-95", "ORG")],
)
def test_a_code_is_a_name_whatever_its_label(text: str, label: str) -> None:
    got = v(text, label)  # a road's number is not a figure
    assert (got.kind, got.unit) == ("name", "code")


@pytest.mark.parametrize(
    ("text", "initials"),
    [
        ("Marine Accident Investigation Branch", "maib"),
        ("the United States", "us"),
        ("Bank of England", "be"),  # "of" is left out
        ("Bakker", ""),  # one word has no initials
    ],
)
def test_initials(text: str, initials: str) -> None:
    assert v(text, "ORG").initials == initials


SAME = [
    # the seeds' distance: 1 km, a kilometre and 0.6 mile are one distance
    (("1 km", "QUANTITY"), ("a kilometre", "QUANTITY")),
    (("1 kilometer", "QUANTITY"), ("0.6 mile", "QUANTITY")),
    (("2 km", "QUANTITY"), ("1.2 miles", "QUANTITY")),
    (("2,000 metres", "QUANTITY"), ("2 km", "QUANTITY")),
    (("about three miles", "QUANTITY"), ("5 km", "QUANTITY")),
    (("250-kilogram", "QUANTITY"), ("550-pound", "QUANTITY")),
    (("300 metres", "QUANTITY"), ("1,000 feet", "QUANTITY")),
    (("150 minutes", "TIME"), ("two and a half hours", "DATE")),
    # rounding: "about 50" is 50, an exact count rounds to a round one
    (("about 50", "CARDINAL"), ("50", "CARDINAL")),
    (("2,380", "CARDINAL"), ("about 2,400", "CARDINAL")),
    (("More than 150", "CARDINAL"), ("150", "CARDINAL")),
    (("some two hundred", "CARDINAL"), ("About 200", "CARDINAL")),
    # a date written two ways
    (("Saturday 7 June", "DATE"), ("June 7", "DATE")),
    (("Saturday", "DATE"), ("7 June", "DATE")),
    (("Sunday 9 March 2025", "DATE"), ("March 9", "DATE")),
    (("3:40 p.m.", "TIME"), ("15:40", "TIME")),
    (("3.40pm", "TIME"), ("15:40", "TIME")),
    # a name and its surname, with and without titles
    (("Bakker", "PERSON"), ("Ingrid Bakker", "PERSON")),
    (("Lt. Col. Markus Poelzl", "PERSON"), ("Lieutenant Colonel Markus Pölzl", "PERSON")),
    # an acronym and the name it spells
    (("MAIB", "ORG"), ("The Marine Accident Investigation Branch", "ORG")),
    (("U.S.", "GPE"), ("the United States", "GPE")),
    # a code, whatever spaCy labels it
    (("A7", "CARDINAL"), ("the A7", "PRODUCT")),
]
DIFFERENT = [
    (("1 km", "QUANTITY"), ("6 miles", "QUANTITY")),
    (("2 km", "QUANTITY"), ("5 km", "QUANTITY")),
    (("260", "CARDINAL"), ("620", "CARDINAL")),
    (("About 90", "CARDINAL"), ("More than 150", "CARDINAL")),
    (("two", "CARDINAL"), ("four", "CARDINAL")),
    (("Saturday 7 June", "DATE"), ("Friday 6 June", "DATE")),
    (("Saturday", "DATE"), ("Friday, June 6", "DATE")),
    (("3:40 p.m.", "TIME"), ("4:40 p.m.", "TIME")),
    (("Ingrid Bakker", "PERSON"), ("Ingrid Visser", "PERSON")),
    (("UK", "GPE"), ("the United States", "GPE")),  # initials that are not the other's
    (("A7", "CARDINAL"), ("N247", "PRODUCT")),
]
INCOMPARABLE = [
    (("260", "CARDINAL"), ("2 km", "QUANTITY")),  # a count and a distance
    (("15 percent", "PERCENT"), ("15", "CARDINAL")),
    (("250 kg", "QUANTITY"), ("250", "CARDINAL")),
    (("Hoorn", "GPE"), ("Hoorn", "PERSON")),  # a place and a person are never one value
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_paraphrases_conversions_rounding_and_dates_agree(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert same(v(*a), v(*b)) and same(v(*b), v(*a))
    assert not disagree(v(*a), v(*b))


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_values_disagree(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert disagree(v(*a), v(*b)) and disagree(v(*b), v(*a))


@pytest.mark.parametrize(("a", "b"), INCOMPARABLE)
def test_values_of_different_types_neither_agree_nor_disagree(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert not same(v(*a), v(*b)) and not disagree(v(*a), v(*b))


def test_grouping_counts_files_and_orders_versions_by_support() -> None:
    items = [
        (v("1 kilometer", "QUANTITY"), frozenset({"000.txt"}), "a"),
        (v("a kilometer", "QUANTITY"), frozenset({"001.txt"}), "b"),
        (v("0.6 mile", "QUANTITY"), frozenset({"001.txt"}), "c"),  # the same file again: counted once
        (v("one kilometer", "QUANTITY"), frozenset({"002.txt"}), "d"),
        (v("a kilometre", "QUANTITY"), frozenset({"003.txt"}), "e"),
        (v("6 miles", "QUANTITY"), frozenset({"003.txt"}), "f"),
    ]
    versions = group(items[5:] + items[:5])  # the rival first: support decides the order, not position
    assert [sorted(x.members) for x in versions] == [["a", "b", "c", "d", "e"], ["f"]]
    assert [sorted(x.files) for x in versions] == [["000.txt", "001.txt", "002.txt", "003.txt"], ["003.txt"]]


def test_the_most_specific_date_is_placed_first() -> None:
    items = [
        (v("Saturday", "DATE"), frozenset({"f1"}), "sat"),
        (v("Friday", "DATE"), frozenset({"f2"}), "fri"),
        (v("Saturday 7 June", "DATE"), frozenset({"f3"}), "sat7"),
        (v("6 June", "DATE"), frozenset({"f4"}), "6"),
        (v("Friday 6 June", "DATE"), frozenset({"f5"}), "fri6"),
        (v("June 7", "DATE"), frozenset({"f6"}), "7"),
    ]
    versions = group(items)
    assert [sorted(x.members) for x in versions] == [["7", "sat", "sat7"], ["6", "fri", "fri6"]]


@pytest.mark.parametrize(
    ("versions", "total", "text"),
    [
        (
            [("X", "[1][2][3]", 3), ("Y", "[4][5]", 2)],
            5,
            "Most sources say X [1][2][3]; 2 say Y [4][5].",
        ),
        (
            [("X", "[1][2]", 2), ("Y", "[3][4]", 2)],
            4,
            "The sources are split: 2 say X [1][2]; 2 say Y [3][4].",
        ),
        ([("X", "[1]", 1), ("Y", "[2]", 1)], 2, "The sources disagree: one says X [1]; another says Y [2]."),
        (
            [("X", "[1][2][3]", 3), ("Y", "[4][5]", 2), ("Z", "[6]", 1)],
            6,
            "3 of 6 sources say X [1][2][3]; 2 say Y [4][5]; 1 says Z [6].",
        ),
        (
            [("1 km", "[1][2][3][4]", 4), ("6 miles", "[4]", 1)],
            4,
            "Most sources say 1 km [1][2][3][4]; 1 says 6 miles [4].",
        ),
    ],
)
def test_wording(versions: list[tuple[str, str, int]], total: int, text: str) -> None:
    assert wording(versions, total) == text


def test_a_qualifier_reads_in_lower_case_mid_sentence() -> None:
    assert (shown("Some 620"), shown("About 90"), shown("Saturday 7 June")) == (
        "some 620",
        "about 90",
        "Saturday 7 June",
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (({"resid"}, {"evacu"}), ({"resid"}, {"evacu"}), True),  # "620 residents were evacuated" / "260 …"
        (({"peopl"}, {"make"}), ({"peopl"}, {"move"}), False),  # "120 people made use of it"
        (({"said"},), ({"said"},), False),  # "Wali said" is not yet a statement
        ((), ({"resid"}, {"evacu"}), False),
    ],
)
def test_parallel_statements(a: tuple[set[str], ...], b: tuple[set[str], ...], expected: bool) -> None:
    assert parallel([frozenset(x) for x in a], [frozenset(x) for x in b]) is expected


S = frozenset


@pytest.mark.parametrize(
    ("a", "b", "asked", "how", "expected"),
    [
        # "the N247 was closed" / "the A7 was closed" for "which road was closed": one word is enough
        ((S({"close"}),), (S({"close"}),), S({"close"}), (("obj",), ("obj",)), True),
        # what it hangs on first differs: "three schools were closed" / "closed between two junctions"
        ((S({"school"}), S({"close"})), (S({"junction"}), S({"close"})), S({"close"}), None, False),
        # "hit rocks on Tuesday morning" / "hit rocks on Wednesday 15 October"
        ((S({"morn"}), S({"hit"})), (S({"hit"}),), S({"hit"}), (("other", "on"), ("on",)), True),
        # another role of the predicate: "dropped by U.S. aircraft" / "dropped on Graz"
        ((S({"aircraft"}), S({"drop"})), (S({"drop"}),), S({"drop"}), (("other", "subj"), ("on",)), False),
        # the speaker of a verb of speech is not what is said: "Wali said" / "Rahmani said"
        ((S({"said", "say"}),), (S({"said", "say"}),), S({"said", "say"}), (("subj",), ("subj",)), False),
        ((S({"said", "say"}),), (S({"said", "say"}),), S({"said", "say"}), None, False),
        # … but who is told is: "people within 5 km were told" / "anyone within 2,000 metres was told"
        ((S({"peopl"}), S({"tell"})), (S({"tell"}),), S({"tell"}), (("other", "obj"), ("obj",)), True),
        # not the question's predicate: no looser match
        ((S({"close"}),), (S({"close"}),), S({"open"}), (("obj",), ("obj",)), False),
    ],
)
def test_parallel_statements_of_the_questions_predicate(
    a: tuple[frozenset[str], ...],
    b: tuple[frozenset[str], ...],
    asked: frozenset[str],
    how: tuple[tuple[str, ...], tuple[str, ...]] | None,
    expected: bool,
) -> None:
    assert parallel(a, b, asked, how) is expected


@pytest.mark.parametrize(
    ("a", "b", "how", "expected"),
    [
        # "the plant near Hoorn" / "a plant near Enkhuizen" for "near which town is the plant …?"
        ((S({"plant"}), S({"recycl"})), (S({"plant"}), S({"fight"})), (("near",), ("near",)), True),
        ((S({"plant"}),), (S({"plant"}),), (("near",), ("in",)), False),  # another preposition
        ((S({"hall"}),), (S({"plant"}),), (("near",), ("near",)), False),  # another noun
    ],
)
def test_values_beside_the_questions_noun(
    a: tuple[frozenset[str], ...],
    b: tuple[frozenset[str], ...],
    how: tuple[tuple[str, ...], tuple[str, ...]],
    expected: bool,
) -> None:
    assert beside_noun(a, b, how, S({"plant"}), S({"plant", "near", "burn"})) is expected


def test_a_date_of_the_event() -> None:
    assert of_event((S({"fire"}),), S({"fire"}))  # "Friday's fire"
    assert not of_event((S({"hour"}), S({"fire"})), S({"fire"}))  # "the early hours of Saturday"
    assert not of_event((), S({"fire"}))


@pytest.mark.parametrize(
    ("sentence", "value", "words", "roles"),
    [
        ("The N247 was closed for most of the evening.", "N247", [{"close"}], ("obj",)),
        ("Police closed the A7 on Saturday.", "A7", [{"close"}], ("obj",)),
        (
            "The bomb was dropped by American aircraft.",
            "American",
            [{"aircraft"}, {"drop"}],
            ("other", "subj"),
        ),
    ],
)
def test_frames_and_links_from_the_parse(
    sentence: str, value: str, words: list[set[str]], roles: tuple[str, ...]
) -> None:
    from qa.nlp import parse_many

    doc = parse_many([sentence])[0]
    start = sentence.index(value)
    got = frame(doc, start, start + len(value))
    assert len(got) == len(words) and all(w <= k for w, k in zip(words, got, strict=True))
    assert links(doc, start, start + len(value)) == roles


def test_a_frame_word_also_stands_for_the_words_it_is_said_for() -> None:
    """`also` adds the keys a frame word stands for: "injured" framed as the question's "hurt"."""
    from qa.nlp import parse_many

    sentence = "Three workers were injured in the blast."
    doc = parse_many([sentence])[0]
    start = sentence.index("Three")
    plain = frame(doc, start, start + 5)
    meant = frame(doc, start, start + 5, lambda t: S({"hurt"}) if t.lemma_ == "injure" else S())
    assert not any("hurt" in k for k in plain)
    assert any("hurt" in k for k in meant) and all(a <= b for a, b in zip(plain, meant, strict=True))


@pytest.mark.parametrize(
    ("sentence", "value", "nouns"),
    [
        # a title before the name, an apposition either way, a noun it modifies, a copula
        ("Captain Fiona MacLeod ordered everyone on deck.", "Fiona MacLeod", {"captain"}),
        ("The blaze broke out at Vermeer Recycling, a plastics company.", "Vermeer Recycling", {"compani"}),
        ("The captain, Tom Reid, said the ship had lost power.", "Tom Reid", {"captain"}),
        ("The ferry is run by the Lorne Ferries company.", "Lorne Ferries", {"compani"}),
        ("The captain was Tom Reid.", "Tom Reid", {"captain"}),
        ("Tom Reid was the captain.", "Tom Reid", {"captain"}),
        # nothing says what the value is
        ("Tom Reid said the ship had lost power.", "Tom Reid", set()),
        ("The captain thanked Tom Reid.", "Tom Reid", set()),
    ],
)
def test_the_nouns_that_name_a_value(sentence: str, value: str, nouns: set[str]) -> None:
    from qa.nlp import parse_many

    doc = parse_many([sentence])[0]
    start = sentence.index(value)
    assert named_as(doc, start, start + len(value)) == nouns


@pytest.mark.parametrize(
    ("text", "tol", "lo", "hi"),
    [
        ("about 50", TOL, 45.0, 55.0),
        ("about 50", Tolerance(TOL.rounding, approximate=0.2), 40.0, 60.0),
        ("1,200", TOL, 1150.0, 1250.0),  # rounding from the digits: to the nearest hundred
        ("1,200", Tolerance(0.01, TOL.approximate), 1188.0, 1212.0),  # never wider than 1 % of it
    ],
)
def test_the_answer_sections_tolerance_sets_how_wide_a_figure_is_read(
    text: str, tol: Tolerance, lo: float, hi: float
) -> None:
    v = normalise(text, "CARDINAL", tol)
    assert v is not None and (v.lo, v.hi) == pytest.approx((lo, hi))


@pytest.mark.parametrize(
    ("sentence", "value", "part"),
    [
        ("Twenty-seven people were hurt, five of them seriously.", "five", True),
        ("Five of the 27 injured were rescuers.", "Five", True),
        ("Two of her crew were lightly injured.", "Two", False),  # the count of the crew, not of a count
        ("Twenty-seven people were hurt, five of them seriously.", "Twenty-seven", False),
    ],
)
def test_a_part_of_another_count(sentence: str, value: str, part: bool) -> None:
    from qa.nlp import parse_many

    doc = parse_many([sentence])[0]
    start = sentence.index(value)
    assert a_part(doc, start, start + len(value)) is part
