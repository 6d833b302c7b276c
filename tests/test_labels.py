"""The label catalogue of the pictures (``convmat.layout.labels``)."""

import pytest

import convmat
from convmat import layout


def test_every_language_has_every_key_and_no_language_copies_english():
    english = layout.labels("en")
    assert tuple(english) == layout.LABEL_KEYS
    for lang in layout.LANGUAGES:
        words = layout.labels(lang)
        assert set(words) == set(layout.LABEL_KEYS)
        assert all(isinstance(v, str) and v.strip() for v in words.values())
        if lang != "en":  # a translation: the words differ (names of people excepted)
            same = {k for k in words if words[k] == english[k]}
            assert same <= {"kong_lucey"}, same


def test_spanish_words_are_the_course_vocabulary():
    es = layout.labels("es")
    expected = {"input": "entrada", "kernel": "núcleo", "output": "salida",
                "padding": "relleno", "padding_copies": "relleno (copias)",
                "implicit_padding": "relleno implícito", "output_padding": "relleno de salida",
                "inserted_zero": "cero insertado", "input_channels": "canales de entrada",
                "output_channels": "canales de salida", "dilation": "dilatación"}
    assert {k: es[k] for k in expected} == expected
    assert layout.fill(es["input_flattened"], x="x") == "x (entrada, aplanada)"


def test_fields_are_the_same_in_every_language():
    import re

    english = layout.labels("en")
    for lang in layout.LANGUAGES:
        words = layout.labels(lang)
        for key in layout.LABEL_KEYS:
            assert set(re.findall(r"\{(\w+)\}", words[key])) == \
                set(re.findall(r"\{(\w+)\}", english[key])), (lang, key)


def test_overrides_replace_single_keys_and_leave_the_catalogue_alone():
    words = layout.labels("es", {"kernel": "filtro", "input": "imagen"})
    assert (words["kernel"], words["input"], words["output"]) == ("filtro", "imagen", "salida")
    assert layout.labels("es")["kernel"] == "núcleo"
    with pytest.raises(TypeError):
        words["kernel"] = "x"  # read-only


@pytest.mark.parametrize("bad, names", [
    (dict(lang="fr"), ["lang='fr'", "en, es", "plot_matrix"]),
    (dict(lang=None), ["lang=None"]),
    (dict(labels={"kernal": "k"}), ["'kernal'", "kernel", "inserted_zero"]),
    (dict(labels={"kernel": 3}), ["labels['kernel']=3"]),
    (dict(labels=["kernel"]), ["not a mapping"]),
])
def test_bad_language_or_override_names_it(bad, names):
    with pytest.raises(convmat.ConvmatError) as info:
        layout.labels(**{"lang": "en", "call": "plot_matrix", **bad})
    for name in names:
        assert name in str(info.value)


def test_fill_leaves_unknown_braces():
    assert layout.fill("{x} and {y} {", x="$x$") == "$x$ and {y} {"
    with pytest.raises(convmat.ConvmatError):
        layout.fill(None)


def test_a_call_that_is_not_a_string_is_named_not_a_crash():
    # a 5,000-digit integer cannot even be turned into a string by Python
    with pytest.raises(convmat.ConvmatError, match="call="):
        layout.labels("xx", call=10**5000)
