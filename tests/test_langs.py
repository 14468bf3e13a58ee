import pytest

from polyalign import langs
from polyalign.errors import InputError

PAPER_LANGS = "en ar bn de el es fr gu hi id it ja ml mr ne nl pl pt ro ru sw ta te th tr ur vi zh".split()


def test_table_covers_every_language_of_the_three_papers():
    for code in PAPER_LANGS:
        row = langs.get(code)
        assert row.code == code and row.name and row.native and row.script and row.iso639_3
    for group in (langs.XLLAMA_LANGS, langs.QALIGN_LANGS, langs.MGSM_LANGS, langs.XQUAD_LANGS, langs.MLQA_LANGS,
                  langs.XCSQA_LANGS, langs.LOW_RESOURCE_LANGS):
        assert all(code in langs.LANGUAGES for code in group)


def test_paper_names_reproduce_the_iso639_package():
    assert langs.language_name("el", "paper") == "Modern Greek (1453-)"
    assert langs.language_name("sw", "paper") == "Swahili (macrolanguage)"
    assert langs.language_name("ne", "paper") == "Nepali (macrolanguage)"
    assert langs.language_name("zh", "paper") == "Chinese"
    assert langs.language_name("el") == "Greek"
    assert langs.language_name("sw") == "Swahili"


def test_native_digits_and_scripts():
    assert langs.get("bn").digits == "০১২৩৪৫৬৭৮৯"
    assert langs.get("th").digits == "๐๑๒๓๔๕๖๗๘๙"
    assert langs.get("ar").digits == "٠١٢٣٤٥٦٧٨٩"
    assert langs.get("ur").digits == "۰۱۲۳۴۵۶۷۸۹"
    assert langs.get("de").digits is None
    assert not langs.get("zh").spaces and not langs.get("th").spaces and langs.get("ru").spaces
    assert langs.get("ar").rtl and not langs.get("fr").rtl
    assert langs.get("zh").flores == "zho_simpl" and langs.get("sw").flores == "swh"


def test_aliases_and_parse():
    assert langs.get("DEU").code == "de"
    assert langs.get("German").code == "de"
    assert langs.get("zh-CN").code == "zh"
    assert langs.parse_langs("de, fr,de,zho") == ["de", "fr", "zh"]


def test_unknown_code_is_an_input_error_with_a_suggestion():
    with pytest.raises(InputError, match="unknown language code 'dee'.*did you mean de"):
        langs.get("dee")
    with pytest.raises(InputError, match="no language"):
        langs.parse_langs(" , ")
