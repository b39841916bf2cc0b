"""The strict loader: hand-edited YAML can never silently change meaning."""
from __future__ import annotations

import re

import yaml
from hypothesis import given, settings, strategies as st

from associe.loading import StrictLoader, load_text, locate


def load(text):
    data, problems = load_text(text, "f.yaml")
    assert problems == [], problems
    return data


def test_yaml_1_1_traps_stay_strings():
    data = load("a: no\nb: 01234\nc: 1:20\nd: 1.10\ne: 2024-02-30\nf: on\ng: 0x1F\nh: 1e3\non: yes\n")
    assert data == {"a": "no", "b": "01234", "c": "1:20", "d": "1.10", "e": "2024-02-30", "f": "on",
                    "g": "0x1F", "h": "1e3", "on": "yes"}


def test_plain_integers_booleans_and_null_keep_their_type():
    assert load("a: 12\nb: -3\nc: true\nd: false\ne: ~\nf:\n") == {"a": 12, "b": -3, "c": True, "d": False, "e": None, "f": None}


def test_departement_code_is_not_an_integer():
    assert load("departement: 01\n") == {"departement": "01"}


def test_duplicate_key_is_an_error_with_both_lines():
    _, problems = load_text("titre: A\nstatut: ouvert\ntitre: B\n", "f.yaml")
    assert [(p.line, p.field) for p in problems] == [(3, "titre")]
    assert "déjà à la ligne 1" in problems[0].message


def test_nested_duplicate_key():
    _, problems = load_text("territoire:\n  commune: '21231'\n  commune: '21166'\n", "f.yaml")
    assert problems and problems[0].line == 3


def test_aliases_and_tags_are_errors():
    for text in ("a: &x 1\nb: *x\n", "a: !!str 1\n", "a: !!python/object/apply:os.system ['id']\n", "a: !custom x\n"):
        data, problems = load_text(text, "f.yaml")
        assert data is None and problems, text


def test_billion_laughs_is_refused_quickly():
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(7))
    data, problems = load_text(text, "f.yaml")
    assert data is None and "alias" in problems[0].message


def test_strings_are_nfc_normalised():
    assert load("nom: \"Cafe\u0301\"\n") == {"nom": "Café"}


def test_locate_points_at_the_value():
    text = "titre: x\nterritoire:\n  commune: '21999'\n  portee: commune\nthematiques:\n  - a\n  - b\n"
    assert locate(text, ["territoire", "commune"]) == (3, 12)
    assert locate(text, ["thematiques", 1]) == (7, 5)
    assert locate(text, ["absent"]) == (1, 1)


# ---------------------------------------------------------------- properties (Hypothesis)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
keys = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, texts, max_size=6))
def test_any_string_written_by_a_yaml_dumper_is_read_back_as_the_same_string(mapping):
    dumped = yaml.safe_dump(mapping, allow_unicode=False)
    data, problems = load_text(dumped, "f.yaml")
    assert problems == []
    import unicodedata
    assert (data or {}) == {k: unicodedata.normalize("NFC", v) for k, v in mapping.items()}


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_the_loader_never_crashes_and_locates_its_errors(text):
    data, problems = load_text(text, "f.yaml")
    assert (data is None) or not problems
    for problem in problems:
        assert problem.message and problem.line >= 0


SCALAR = re.compile(r"[^\n#:&*!|>'\"%@`{}\[\],?-][^\n#:]*")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(SCALAR, fullmatch=True))
def test_a_plain_scalar_is_a_string_unless_it_is_a_decimal_integer_or_a_boolean(value):
    value = value.strip()
    try:
        data = yaml.load(f"k: {value}\n", Loader=StrictLoader)
    except yaml.YAMLError:
        return
    if not isinstance(data, dict):
        return
    loaded = data["k"]
    if isinstance(loaded, bool):
        assert value in ("true", "True", "TRUE", "false", "False", "FALSE")
    elif isinstance(loaded, int):
        assert re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", value)
    elif loaded is None:
        assert value in ("", "~", "null", "Null", "NULL")
    else:
        assert isinstance(loaded, str)
