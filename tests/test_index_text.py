"""Text evidence: normalisation, model codes, attributes, n-grams, and the pair kinds they lead to."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from nextdrop.index.axes import variant_words
from nextdrop.index.mining import _fork_map
from nextdrop.index.packed import PackedFeatures
from nextdrop.index.scoring import evidence
from nextdrop.index.text import (
    TextFeatures,
    attributes,
    char_ngrams,
    exact_key,
    gram_codes,
    has_title,
    model_codes,
    normalize,
    sibling_ids,
)


def kind(a: str, b: str, cosine: float = 0.9, same_source: bool = True, threshold: float = 0.6) -> str | None:
    return evidence(TextFeatures(a), TextFeatures(b), cosine).kind(threshold, same_source)


def test_normalize_strips_html_entities_and_case() -> None:
    assert normalize("<p>Linen&nbsp;<b>Apron</b></p>\n  Blue") == "linen apron blue"
    assert normalize(None) == ""
    assert exact_key("Linen Apron!") == exact_key("linen  apron")


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("Sony Turntable - PSLX350H", "pslx350h"),
        ("Sony PS-LX350H Belt-Drive Turntable", "pslx350h"),
        ("Sony KDL 40V4100 TV", "kdl40v4100"),
        ("Apple Time Capsule - MB277LL/A", "mb277lla"),
    ],
)
def test_model_codes_are_normalised_and_joined(title: str, code: str) -> None:
    assert code in model_codes(title)


def test_measures_are_not_codes() -> None:
    assert model_codes("Kingston 64GB USB 3.0 Flash Drive 500ml") == frozenset()


def test_attributes_by_kind_and_unit() -> None:
    attrs = attributes("WD 3TB SATA 64MB cache, pack of 2, navy, large")
    assert attrs["capacity:gb"] == {"3tb"}  # gigabytes and terabytes are one kind: storage
    assert attrs["capacity:mb"] == {"64mb"}
    assert attrs["pack"] == {"2"}
    assert attrs["colour"] == {"navy"}
    assert attrs["size:word"] == {"large"}
    assert "capacity:mb" not in attributes("SD card 20 MB/sec")  # a rate, not a capacity


def test_char_ngrams_work_without_word_segmentation() -> None:
    a, b = char_ngrams("雄争霸点卡元宝"), char_ngrams("七雄争霸点卡")
    assert len(a & b) >= 3


def test_gigabytes_and_terabytes_are_one_storage_size() -> None:
    assert attributes("Seagate Barracuda 1000GB SATA")["capacity:gb"] == attributes("Seagate 1TB")["capacity:gb"]
    drives = ("Seagate Barracuda 500GB SATA 7200rpm", "Seagate Barracuda 1TB SATA 7200rpm")
    found = evidence(TextFeatures(drives[0]), TextFeatures(drives[1]), 0.95)
    assert found.kind(0.6, same_source=True) == "variant" and "capacity 500gb / 1tb" in found.reason()
    assert found.kind(0.6, same_source=False) not in ("exact", "near_duplicate")  # nor a match across sources


def test_conflicting_capacity_is_a_variant_not_a_duplicate() -> None:
    assert kind("WD Red 1TB NAS Hard Drive", "WD Red 3TB NAS Hard Drive", cosine=0.97) == "variant"


def test_related_model_numbers_are_variants() -> None:
    assert kind("Samsung LN46A850 LCD HDTV", "Samsung LN52A850 LCD HDTV", cosine=0.97) == "variant"


def test_shared_code_makes_differently_worded_titles_duplicates_across_sources() -> None:
    assert kind("Sony Turntable - PSLX350H", "Sony PS-LX350H Belt-Drive Turntable", 0.8, same_source=False) == (
        "near_duplicate"
    )


def test_competing_products_of_one_range_are_variants_with_their_axis_in_one_catalog() -> None:
    a, b = TextFeatures("Botanical Terracotta Plant Pot"), TextFeatures("Woodland Terracotta Plant Pot")
    found = evidence(a, b, 0.92)
    assert found.kind(0.6, same_source=True) == "variant"
    assert found.reason().startswith("design: botanical / woodland")
    assert found.kind(0.6, same_source=False) == "near_duplicate"  # across sources wording differs freely


def test_a_colour_added_in_one_catalog_is_a_variant() -> None:
    assert kind("Gingham Citrus Loofah", "Gingham Citrus Loofah - Red") == "variant"


def test_rewording_typo_and_case_stay_duplicates() -> None:
    assert kind("Vintage Ceramic Candle", "New Vintage Ceramic Cadnle", cosine=0.85) == "near_duplicate"
    assert kind("Retro Tea Towel", "RETRO TEA TOWEL") == "exact"


def test_reason_names_the_evidence() -> None:
    ev = evidence(TextFeatures("WD Red 1TB drive"), TextFeatures("WD Red 3TB drive"), 0.97)
    assert "capacity 1tb / 3tb" in ev.reason()


VARIED = [
    "",
    "a",
    "ab",
    "Vintage Ceramic Mug",
    "VINTAGE CERAMIC MUG!!",
    "🎄 Christmas Bauble 🎄",
    "七雄争霸点卡元宝直充",
    "Teapot 茶壶 Чайник",
    "<p>Linen&nbsp;<b>Apron</b></p>",
    "aaaa aaaa",
    "Handmade ceramic mug " * 50,
]


def test_bulk_gram_codes_are_the_char_ngrams() -> None:
    indptr, codes = gram_codes([normalize(t) for t in VARIED])
    for row, text in enumerate(VARIED):
        mine = codes[indptr[row] : indptr[row + 1]].tolist()
        assert mine == sorted(set(mine))  # sorted and unique per row
        if text:  # decode the packed code points back into the 3-grams
            grams = {"".join(chr((c >> shift) & 0x1FFFFF) for shift in (42, 21, 0)) for c in mine}
            assert grams == char_ngrams(text)
        else:  # the empty title's one two-space "gram" gets a code no real 3-gram has
            assert len(mine) == 1 and char_ngrams(text) == {"  "}


@pytest.mark.parametrize("forked", [False, True])
def test_packed_features_restore_what_the_title_gives(forked: bool) -> None:
    titles = [*VARIED, "Sony KDL 40V4100 TV 40in black, pack of 2", "Red mug 500ml 2 x", "Size: XL tee navy"]
    packed = PackedFeatures(titles, lambda work, shared, bounds: _fork_map(work, shared, bounds, forked), 3)
    assert len(packed) == len(titles)
    for row, title in enumerate(titles):
        restored, computed = packed.features(row), TextFeatures(title)
        in_blocks = {int(h) for h in packed.codes.hashes[packed.codes.rows == row]}
        assert in_blocks == {hash(code) for code in computed.codes}
        assert (row in packed.keys.rows) == bool(computed.key)
        for name in (
            "text",
            "norm",
            "key",
            "codes",
            "ranked",
            "attr_key",
            "tokens",
            "ordered",
            "token_text",
            "joined",
            "content_words",
            "long_initials",
        ):
            assert getattr(restored, name) == getattr(computed, name), (title, name)
    assert packed.features(len(titles) - 3).codes and packed.features(len(titles) - 2).attr_key
    with pytest.raises(TypeError, match="nonsense"):
        TextFeatures.known("x", nonsense=1)


@pytest.mark.parametrize("distinct_grams", ["few", "many"])
def test_packed_grams_are_each_records_char_ngrams(distinct_grams: str) -> None:
    """Two-byte columns for a small gram vocabulary, four bytes past 65,536 grams (random CJK titles)."""
    titles = list(VARIED)
    if distinct_grams == "many":
        rng = np.random.default_rng(0)
        titles += ["".join(chr(c) for c in rng.integers(0x4E00, 0x9FFF, 60)) for _ in range(1_300)]
    packed = PackedFeatures(titles, lambda work, shared, bounds: _fork_map(work, shared, bounds, False), 500)
    assert (len(packed.gram_vocabulary) > 1 << 16) == (distinct_grams == "many")
    rows = np.array([2, 0, 2, len(titles) - 1, 5])  # any order, repeats allowed
    indptr, columns = packed.gram_rows(rows)
    reference_indptr, reference_codes = gram_codes([normalize(titles[r]) for r in rows.tolist()])
    assert indptr.tolist() == reference_indptr.tolist()
    assert packed.gram_vocabulary[columns].tolist() == reference_codes.tolist()


def test_reasons_do_not_depend_on_string_hashing() -> None:
    """Ties (two equally long shared codes, two one-edit typo matches) are broken the same way in every process."""
    script = (
        "from nextdrop.index.scoring import evidence\n"
        "from nextdrop.index.text import TextFeatures as F\n"
        "for a, b in [('Brand1 Lamp M38164', 'Brand1 Lamp M38164 XL'), ('Bakes Tin', 'Cakes Bakers Tin'),"
        " ('LN46A850 LN40A850 TV', 'LN52A850 LN32A850 TV')]:\n"
        "    print(evidence(F(a), F(b), 0.9).reason())\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(outputs) == 1


# Issue 19: inside one merchant's catalog, products of one range are variants with their axis, never merged.
@pytest.mark.parametrize(
    ("a", "b", "axis"),
    [
        ("FRENCH BLUE METAL DOOR SIGN 1", "FRENCH BLUE METAL DOOR SIGN 7", "number: 1 / 7"),
        ("NUMBER TILE VINTAGE FONT 4", "NUMBER TILE VINTAGE FONT 9", "number: 4 / 9"),
        ('LETTER "A" BLING KEY RING', 'LETTER "H" BLING KEY RING', 'letter: "a" / "h"'),
        ("GARDENIA 3 WICK MORRIS BOXED CANDLE", "GARDENIA 1 WICK MORRIS BOXED CANDLE", "number: 3 / 1"),
        ("PICNIC HAMPER FOR 2", "PICNIC HAMPER FOR 4", "number: 2 / 4"),
        ("SET/6 WOODLAND PAPER PLATES", "SET/6 POSIES PAPER PLATES", "design: woodland / posies"),
        ("POSIES PAPER CUPS", "POSIES PAPER PLATES", "item type: cups / plates"),
        ("FAIRY CAKE NOTEBOOK A5 SIZE", "FAIRY CAKE NOTEBOOK A6 SIZE", "series: a5 / a6"),
        ("BLUE PATCH PURSE PINK HEART", "PINK PATCH PURSE BLUE HEART", "colour or size"),
    ],
)
def test_range_members_are_variants_that_name_their_axis(a: str, b: str, axis: str) -> None:
    found = evidence(TextFeatures(a), TextFeatures(b), 0.95)
    assert found.kind(0.6, same_source=True) == "variant"
    assert found.reason().startswith(axis)


def test_a_pack_notation_is_a_pack_size_not_a_shared_model_code() -> None:
    assert model_codes("SET/6 WOODLAND PAPER PLATES") == frozenset()
    assert model_codes("S/60 PINK FLUFFY CHICKS") == frozenset()
    assert attributes("SET/6 WOODLAND PAPER PLATES")["pack"] == {"6"}
    assert kind("S/4 VALENTINE HEART BOX", "SET OF 4 VALENTINE HEART BOX", cosine=0.95) == "near_duplicate"


def test_specs_are_not_model_codes_and_codes_in_common_are_needed_inside_one_catalog() -> None:
    assert model_codes("Panasonic 2-Line Phone") == frozenset()
    assert model_codes("Netgear 10/100 Switch") == frozenset()
    assert kind("Panasonic KX-TSC14W 2-Line Phone", "Panasonic KX-TS208W 2-Line Phone", cosine=0.98) == "variant"


def test_decimal_counts_and_format_lists_are_specs_not_shared_codes() -> None:
    assert model_codes("Onkyo 7.1-Channel Black Home Theater Receiver - TXSR506B") == frozenset({"txsr506b"})
    assert model_codes("Pioneer CD/MP3/WMA In-Dash Receiver") == frozenset()
    onkyo = ("Onkyo 7.1-Channel Black Receiver - TXSR506B", "Onkyo Black 7.1-Channel Home Theater System - HTS5100B")
    assert kind(*onkyo, cosine=0.95) == "variant"
    receivers = (
        "Alpine CD/MP3/WMA/AAC Receiver - CDA9887",
        "Pioneer DEH-2000MP CD/MP3/WMA In-Dash Receiver - DEH2000MP",
    )
    assert kind(*receivers, cosine=0.9) == "variant"


def test_another_last_letter_is_a_suffix_not_a_typo() -> None:
    stands = (
        "Sanus Euro Foundations Satellite Speaker Stand - EFSATB",
        "Sanus Euro Foundations Satellite Speaker Stand - EFSATS",
    )
    assert kind(*stands, cosine=0.97) == "variant"
    assert kind("VINTAGE CANDLE HOLDER", "VINTAGE CNADLE HOLDER", cosine=0.95) == "near_duplicate"  # a slip


def test_ids_of_one_stem_with_another_suffix_are_siblings_and_case_is_not_a_suffix() -> None:
    assert (
        sibling_ids("84509G", "84509B") and sibling_ids("90135", "90135A") and sibling_ids("SKU-12-RED", "SKU-12-BLU")
    )
    assert not sibling_ids("72801C", "72801c")  # one id typed twice
    assert not sibling_ids("20881", "20884") and not sibling_ids("ABC", "ABD")


def test_a_word_other_titles_use_makes_a_variant_where_a_one_off_word_does_not() -> None:
    catalog = [
        "ORANGE CANDLE",
        "ORANGE VOTIVE CANDLE",
        "PINK VOTIVE HOLDER",
        "SWEETHEART WALL TIDY",
        "SWEETHEART WIRE WALL TIDY",
    ]
    axes = variant_words(catalog)
    votive = evidence(TextFeatures("ORANGE CANDLE"), TextFeatures("ORANGE VOTIVE CANDLE"), 0.95, axes=axes)
    assert votive.kind(0.6, same_source=True) == "variant" and "votive on one side only" in votive.reason()
    wire = evidence(TextFeatures("SWEETHEART WALL TIDY"), TextFeatures("SWEETHEART WIRE WALL TIDY"), 0.95, axes=axes)
    assert wire.kind(0.6, same_source=True) == "near_duplicate"  # no other title says "wire": a rewording


@pytest.mark.parametrize(
    ("a", "b", "axis"),
    [
        ("GLASS BON BON JAR", "GLASS BONBON JAR. SUPERFINES", "superfines"),  # compound covered, a new last word
        ("GLASS BON BON JAR", "GLASS BONBON JAR. D'AMANDES", "d amandes"),
        ("BLUE NEW BAROQUE FLOCK CANDLESTICK", "BLUE NEW BAROQUE CANDLESTICK CANDLE", "flock"),  # candle in candlestick
    ],
)
def test_words_left_once_the_other_side_covers_its_own_are_one_sided(a: str, b: str, axis: str) -> None:
    found = evidence(TextFeatures(a), TextFeatures(b), 0.9, axes=frozenset({"flock"}))
    assert found.kind(0.6, same_source=True) == "variant"
    assert f"{axis} on one side only" in found.reason()


def test_a_word_the_catalog_varies_on_one_side_makes_a_variant_a_rewording_does_not() -> None:
    axes = frozenset({"zinc", "glass"})
    zinc = evidence(TextFeatures("HEART T-LIGHT HOLDER"), TextFeatures("ZINC HEART T-LIGHT HOLDER"), 0.95, axes=axes)
    assert zinc.kind(0.6, same_source=True) == "variant"
    assert "zinc on one side only" in zinc.reason()
    plain = evidence(TextFeatures("HEART T-LIGHT HOLDER"), TextFeatures("ZINC HEART T-LIGHT HOLDER"), 0.95)
    assert plain.kind(0.6, same_source=True) == "near_duplicate"  # without the catalog's evidence, a rewording


def test_a_qualifier_appended_in_an_unspaced_script_is_not_a_new_product() -> None:
    assert kind("七雄争霸点卡元宝直充", "七雄争霸点卡元宝直充 自动充值", cosine=0.95, same_source=True) != "variant"
    assert kind("Coffee", "Coffee granules", cosine=0.95, same_source=True) == "variant"


def test_inside_one_catalog_meaning_alone_with_little_text_in_common_is_only_similar() -> None:
    sets = (
        "2017新款女装修身显瘦时尚潮流女装气质套装两件套",
        "2017秋冬季新款毛衣女上衣裤子气质时尚套装女针织阔腿裤两件套装",
    )
    assert kind(*sets, cosine=0.93, same_source=True) == "similar"
    assert kind("Vintage Ceramic Mug", "Retro Pottery Cup", cosine=0.95, same_source=True) == "similar"
    assert kind("BLACK AND WHITE CAT BOWL", "WHITE WITH BLACK CATS BOWL", cosine=0.92) == "near_duplicate"


def test_codes_and_numbers_inside_an_unspaced_script_are_found() -> None:
    assert model_codes("周大福珠宝首饰颈链r14141") == frozenset({"r14141"})
    assert attributes("上海电信100元话费充值")["number"] == {"100"}
    assert kind("上海电信10元话费充值", "上海电信100元话费充值", cosine=0.95, same_source=True) == "variant"


def test_series_numbers_do_not_keep_sources_apart() -> None:
    assert kind("Garmin nuvi 260 GPS", "Garmin nuvi 260 GPS navigator", same_source=False) == "near_duplicate"
    assert kind("Garmin nuvi 260 GPS", "Garmin nuvi 250 GPS", cosine=0.97, same_source=True) == "variant"


@pytest.mark.parametrize(
    ("title", "titled"),
    [
        ("72777", False),
        ("35980a", False),
        ("", False),
        ("DCGS0006", False),
        ("WHITE HANGING HEART T-LIGHT HOLDER", True),
        ("Bread", True),  # a bakery's till names items by a word: a title
        ("七雄争霸点卡元宝", True),
        ("七雄争霸点卡100元", True),  # ideographs beside digits are text: no spaces to split them off
        ("S/60", False),
    ],
)
def test_a_title_that_is_only_an_id_or_codes_carries_no_text(title: str, titled: bool) -> None:
    assert has_title(title) is titled


def test_a_leading_count_is_the_pack_size() -> None:
    assert kind("S/4 ROSE PINK DINNER CANDLES", "4 ROSE PINK DINNER CANDLES", cosine=0.95) == "near_duplicate"
    assert kind("15 PINK FLUFFY CHICKS", "S/60 PINK FLUFFY CHICKS", cosine=0.95) == "variant"


def test_a_count_spelled_out_is_a_number() -> None:
    assert kind("RABBIT EASTER DECORATION", "FOUR RABBIT EASTER DECORATIONS", cosine=0.95) == "variant"


def test_a_name_added_on_one_side_is_another_design_a_single_added_word_is_a_rewording() -> None:
    found = evidence(TextFeatures("GARDENERS KNEELING PAD"), TextFeatures("GARDENERS KNEELING PAD KEEP CALM"), 0.9)
    assert found.kind(0.6, same_source=True) == "variant"
    assert found.reason().startswith("design: keep calm on one side only")
    assert kind("HANGING RIDGE GLASS T-LIGHT HOLDER", "RIDGED GLASS T-LIGHT HOLDER") == "near_duplicate"


def test_a_word_that_ends_one_title_only_is_another_item() -> None:
    assert kind("Coffee", "Coffee granules") == "variant"
    assert kind("Bread", "Bread Pudding") == "variant"
