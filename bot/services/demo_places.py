"""Real anchor places of digital change, as demo data for Werkbank.

Provenance: seed document 004 (BBSR study "Stadtlabore, Makerspaces und
Digitalwerkstätten" on the 54 "Ankerorte des digitalen Wandels" of the programme
Modellprojekte Smart Cities; text and tables by Difu). Every field holds only what
that study states about the place: where it says nothing, the field is None or
empty. Opening hours are filled in only where the study gives times; hours it
describes without times (e.g. "wochentags drei Stunden") stay in the description.

Names are written as the study writes them ("WALD | STADT | LABOR"). No street
addresses are known: `town` is looked up in the gazetteer, so coordinates are
town-level and approximate (B.E.R.D. serves the whole Landkreis Gießen and is
placed at the town of Gießen).

Type codes: "info_place" (study type 1), "digital_learning" (2), "workshop" (3),
"colab" (4), "network" (5), plus "repair_cafe" and "craft_firm". The first code is
the study's main type; the others are only those the study supports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPlace:
    name: str
    town: str
    types: tuple[str, ...]
    anchor_type: int
    operator: str | None
    opening_hours: str | None
    mobile: bool
    equipment: tuple[str, ...]
    step_free: str | None
    cost: str | None
    registration_required: bool | None
    website: str | None
    description: str
    closed: bool = False
    status_note: str | None = None
    source: str = "BBSR-Studie Ankerorte des digitalen Wandels (seed 004)"


DEMO_PLACES: tuple[DemoPlace, ...] = (
    # --- Typ 1: Informations- und Beteiligungsorte --------------------------------
    DemoPlace(
        name="WALD | STADT | LABOR",
        town="Iserlohn",
        types=("info_place", "digital_learning"),
        anchor_type=1,
        operator="Stadt Iserlohn",
        opening_hours=None,  # Mo–Do and every first Saturday, but the study gives no times
        mobile=False,
        equipment=("3d_printer",),
        step_free=None,
        cost=None,
        registration_required=False,  # "konnten spontan vorbeikommen"
        website="https://www.waldstadtlabor.de",
        description=(
            "Anlaufstelle in der Fußgängerzone: Infos zu Stadtplanung und Bauplänen, "
            "Sprechstunden, Vorträge und Workshops, VR-Brillen und 3D-Drucker zum Ausprobieren. "
            "Geöffnet war montags bis donnerstags und jeden ersten Samstag im Monat."
        ),
        closed=True,
        status_note="geschlossen seit 2025; Angebote sollen ins KAI auf dem Wissenscampus",
    ),
    DemoPlace(
        name="Stadtkontakt mobil",
        town="Detmold",
        types=("info_place",),
        anchor_type=1,
        operator="Stadt Detmold",
        opening_hours=None,
        mobile=True,
        equipment=(),
        step_free="yes",  # "Der Eingang ist über eine Rampe barrierefrei zugänglich."
        cost=None,
        registration_required=None,
        website="https://smartcity-detmold.de/projekte/stadtkontakt-mobil",
        description=(
            "Ein Anhänger der Stadtverwaltung fährt die Ortsteile an: Dort lassen sich einige "
            "Behördengänge erledigen, an acht Terminen im Jahr auch mit Infos zu den "
            "Digitalprojekten der Stadt. Der Eingang ist über eine Rampe barrierefrei."
        ),
    ),
    DemoPlace(
        name="Quartier | Werkstatt",
        town="Pforzheim",
        types=("info_place",),
        anchor_type=1,
        operator="Stadt Pforzheim (Smart-City-Team mit Abteilung Klimaschutz)",
        opening_hours=None,
        mobile=True,  # listed in the study's table under "Bürgernähe (mobil)"
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.smartcity-pforzheim.de/mitmachen/quartier-werkstatt.html",
        description=(
            "Mobiler Ort der Stadt, um sich über Digitalprojekte zu informieren und mitzureden. "
            "Das Smart-City-Team betreibt ihn gemeinsam mit der Abteilung Klimaschutz."
        ),
    ),
    DemoPlace(
        name="Zukunftslabor",
        town="Kempten (Allgäu)",
        types=("info_place",),
        anchor_type=1,
        operator="Stadt Kempten",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://smartes.kempten.de/zukunftslabor-6671.html",
        description=(
            "Informations- und Begegnungsort: Hier wird erklärt, wie die Digitalisierung das "
            "Leben in Kempten verändert, und aktuelle Bauprojekte der Stadt werden gezeigt."
        ),
    ),
    DemoPlace(
        name="Begegnungsraum Smart Green City",
        town="Konstanz",
        types=("info_place",),
        anchor_type=1,
        operator="Stadt Konstanz",
        opening_hours=None,  # "wochentags drei Stunden", times not given
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://smart-green-city-konstanz.de/begegnungsraum",
        description=(
            "Büro in der Fußgängerzone der Altstadt, wochentags drei Stunden offen: Hier erfährt "
            "man verständlich, was die Digitalprojekte der Stadt bringen, und sieht Sensoren. "
            "Veranstaltungen meist abends, etwa die „Grüne Stunde“."
        ),
    ),
    DemoPlace(
        name="42kaiserslautern",
        town="Kaiserslautern",
        types=("info_place", "digital_learning"),
        anchor_type=1,
        operator="gemeinnützige GmbH",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.42kaiserslautern.de",
        description=(
            "Treffpunkt zu allen Fragen der Digitalisierung, mit Ausstellungsstücken zum "
            "Ausprobieren und Angeboten zum Lernen."
        ),
    ),
    DemoPlace(
        name="Netz.Werk.Stadt.",
        town="Lohmar",
        types=("info_place", "digital_learning"),
        anchor_type=1,
        operator=None,
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.lohmar.de/nws",
        description=(
            "Informationsort zu den Digitalprojekten der Stadt, dazu Kurse und Beratung "
            "zu digitalen Themen."
        ),
    ),
    DemoPlace(
        name="stadtLABOR Soest",
        town="Soest",
        types=("info_place",),
        anchor_type=1,
        operator=None,
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.stadtlabor-soest.de",
        description=(
            "Offener Lern- und Begegnungsort. Vereine und Initiativen nutzen die gut "
            "ausgestatteten Räume für eigene Veranstaltungen, Beratungen und Workshops."
        ),
    ),
    DemoPlace(
        name="Stadt:Raum",
        town="Bamberg",
        types=("info_place",),
        anchor_type=1,
        operator=None,
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://smartcity.bamberg.de/der-stadtraum-oeffnet-seine-tueren/",
        description=(
            "Anlaufstelle, um sich über die Digitalprojekte der Stadt zu informieren und "
            "mitzureden; soll den Kontakt zur Verwaltung erleichtern."
        ),
    ),
    DemoPlace(
        name="smart.lab",
        town="Wuppertal",
        types=("info_place",),
        anchor_type=1,
        operator=None,
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://smart.wuppertal.de/projekte/smart.lab.php",
        description=(
            "Anlaufstelle, um sich über die Digitalprojekte der Stadt zu informieren und "
            "mitzureden; soll den Kontakt zur Verwaltung erleichtern."
        ),
    ),
    # --- Typ 2: Räume für digitale Bildung ------------------------------------------
    DemoPlace(
        name="Digitalzentrum (DiZ)",
        town="Süderbrarup",
        types=("digital_learning", "workshop", "repair_cafe"),
        anchor_type=2,
        operator="Amt Süderbrarup (Smart-City-Team)",
        opening_hours=None,  # "über 50 Stunden pro Woche", some days until 21:00; no schedule
        mobile=False,  # fixed place; the bus "MobiDiZ" is an addition
        equipment=("3d_printer", "laser_cutter", "vinyl_cutter", "soldering"),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.diz.digital",
        description=(
            "Lern- und Treffpunkt für alle Altersgruppen mit Gemeinschaftswerkstatt "
            "„Klüterkammer“ (3D-Drucker, Lasercutter, Plotter, Löten), Reparatur-Treff "
            "„ReparierBar“ und Kursen; an einzelnen Tagen bis 21 Uhr offen. "
            "Der Bildungsbus „MobiDiZ“ bringt Angebote in alle Gemeinden des Amtes."
        ),
    ),
    DemoPlace(
        name="ProbierLaden",
        town="Jena",
        types=("digital_learning",),
        anchor_type=2,
        operator="Volkshochschule Jena",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.vhs-jena.de/de/probierladen/1010726",
        description=(
            "Laden in der Fußgängerzone, in dem man digitale Technik einfach ausprobieren und "
            "Alltagsfragen stellen kann; Medienpädagogen helfen, dazu offene Digitaltreffs."
        ),
    ),
    DemoPlace(
        name="Zukunfts.Werk.Stadt",
        town="Menden (Sauerland)",
        types=("digital_learning", "info_place"),
        anchor_type=2,
        operator="Mendigital GmbH im Auftrag der Stadt Menden",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.menden.de/zws",
        description=(
            "Offener Lernort in der Stadtmitte: Kurse wie „Online-Banking leicht gemacht“, "
            "Roboter-Programmieren für Kinder und jede Woche offene Sprechstunden, etwa zu "
            "Smartphone und Tablet für Ältere."
        ),
    ),
    DemoPlace(
        name="Experimentierraum",
        town="Hagenow",
        types=("digital_learning",),
        anchor_type=2,
        operator="Stadtbibliothek Hagenow",
        opening_hours=None,  # the library's hours, not given in the study
        mobile=False,
        equipment=("3d_printer",),
        step_free=None,
        cost=None,
        registration_required=None,
        website=(
            "https://www.smart-city-dialog.de/wissen/smart-city-loesungen/"
            "die-stadtbibliothek-als-digitaler-experimentierraum-fuer-alle"
        ),
        description=(
            "Raum in der Stadtbibliothek mit 3D-Drucker, VR-Brillen und 360°-Kamera; Geräte "
            "kann man ausprobieren und ausleihen. Ehrenamtliche Digitallotsen helfen bei "
            "Computer- und Technikfragen."
        ),
    ),
    DemoPlace(
        name="Smart City Forum",
        town="Eichenzell",
        types=("digital_learning",),
        anchor_type=2,
        operator="Smart-City-Team Eichenzell",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://smartcity-eichenzell.de",
        description=(
            "Treffpunkt für digitale Bildung mit Digital-Café (Vorträge, die Themen bestimmt "
            "die Gruppe) und Digital-Frühstück zum offenen Austausch."
        ),
    ),
    DemoPlace(
        name="Stadtlabor freiRAUM",
        town="Arnsberg",
        types=("digital_learning", "info_place"),
        anchor_type=2,
        operator=None,
        opening_hours=None,
        mobile=False,  # fixed place with a bus for workshops at schools
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.arnsberg.de/freiraum",
        description=(
            "Raum für digitale Bildung, der als Informations- und Mitmachort begann. "
            "Mit einem Bus kommen Workshops auch an Schulen."
        ),
    ),
    DemoPlace(
        name="Digitalwerkstatt",
        town="Schönenberg-Kübelberg",
        types=("digital_learning",),
        anchor_type=2,
        operator="Jugendzentrum Schönenberg-Kübelberg",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.land-lieben.de/digitalwerkstaetten/allgemeines-zu-den-digitalwerkstaetten/",
        description="Raum für digitale Bildung im örtlichen Jugendzentrum (Landkreis Kusel).",
    ),
    DemoPlace(
        name="Digitaler Werkraum",
        town="Gütersloh",
        types=("digital_learning",),
        anchor_type=2,
        operator="Stadtbibliothek Gütersloh",
        opening_hours=None,  # the library's hours, not given in the study
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website=None,
        description=(
            "Raum für digitale Bildung in der Stadtbibliothek, geöffnet zu den Zeiten "
            "der Bibliothek."
        ),
    ),
    DemoPlace(
        name="stadtlabor.mg",
        town="Mönchengladbach",
        types=("digital_learning",),
        anchor_type=2,
        operator=None,
        opening_hours=None,
        mobile=True,  # "als Pop-up-Version ohne festen Ort"
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.smartcity.mg",
        description=(
            "Stadtlabor ohne festen Ort: Es kommt mit Angeboten zur digitalen Bildung "
            "abwechselnd in die verschiedenen Stadtviertel."
        ),
    ),
    DemoPlace(
        name="Mitmachwerkstatt",
        town="Detmold",
        types=("digital_learning",),
        anchor_type=2,
        operator=None,
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://smartcity-detmold.de/projekte/mitmach-werkstatt",
        description="Raum für digitale Bildung mit Schwerpunkt auf Gemeinschaft und Begegnung.",
    ),
    DemoPlace(
        name="B.E.R.D.",
        town="Gießen",
        types=("digital_learning",),
        anchor_type=2,
        operator="Kreisvolkshochschule Gießen",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.vhs-kreis-giessen.de/wir-fuer-den-landkreis/berd",
        description=(
            "Angebot der Volkshochschule für digitale Bildung mit Schwerpunkt auf Gemeinschaft "
            "und Begegnung, für den Landkreis Gießen (Ort hier: Stadt Gießen)."
        ),
    ),
    # --- Typ 3: Technikwerkstätten und Makerspaces ----------------------------------
    DemoPlace(
        name="MakerSpace Mayen-Koblenz",
        town="Bendorf",
        types=("workshop", "repair_cafe"),
        anchor_type=3,
        operator="gemeinnützige GmbH",
        opening_hours="Mo-Fr 12:00-19:00",  # "Freie Forschungszeit", daily on weekdays 12-19
        mobile=False,
        equipment=("3d_printer", "laser_cutter", "vinyl_cutter", "soldering", "wood", "metal"),
        step_free=None,
        cost="free",  # the "Freie Forschungszeit" is "kostenlos"
        registration_required=False,  # "ohne Anmeldung"
        website="https://www.makerspace-myk.de",
        description=(
            "Offene Werkstatt in der Fußgängerzone mit 3D-Drucker, Lasercutter, Folienplotter, "
            "Löten, Holz und Metall; Material und Werkzeug kann man ausleihen. Werktags 12–19 Uhr "
            "kostenlos und ohne Anmeldung eigene Projekte bauen, dazu Reparatur-Treffs."
        ),
    ),
    DemoPlace(
        name="Digitallabor 8743x",
        town="Kempten (Allgäu)",
        types=("workshop", "digital_learning"),
        anchor_type=3,
        operator="Stadtjugendring Kempten",
        opening_hours=None,  # "freie Laborzeiten", times not given
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.8743x.de",
        description=(
            "Labor für junge Leute bis 27: In freien Laborzeiten oder Workshops Webdesign, "
            "Musik machen, Spiele entwickeln und Programmieren ausprobieren."
        ),
    ),
    DemoPlace(
        name="Makerspace Kempten",
        town="Kempten (Allgäu)",
        types=("workshop",),
        anchor_type=3,
        operator="Stadt Kempten (Amt für Jugendarbeit)",
        opening_hours=None,
        mobile=False,  # fixed place; a workshop bus has been added since March 2025
        equipment=("3d_printer", "laser_cutter", "vinyl_cutter", "cnc"),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://www.makerspace-kempten.de",
        description=(
            "Offene Werkstatt im städtischen Jugendhaus mit Workshops an Plotter, Laser, "
            "CNC-Fräse und 3D-Drucker. Seit März 2025 fährt ein Werkstatt-Bus auch in "
            "Stadtteile, Schulen und Vereine."
        ),
    ),
    DemoPlace(
        name="Begegnungsort FabLab Flensburg",
        town="Flensburg",
        types=("workshop",),
        anchor_type=3,
        operator=None,
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://hs-flensburg.de/hochschule/organisation/einrichtungen/fablab-ideenreich",
        description=(
            "Offene Werkstatt als Begegnungsort für Flensburg und die Kreise Nordfriesland "
            "und Schleswig-Flensburg."
        ),
    ),
    DemoPlace(
        name="Supermarkt der Ideen",
        town="Oberhausen",
        types=("workshop", "colab"),
        anchor_type=3,
        operator=None,
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://supermarktderideen.de",
        description=(
            "Begann als Ideenlabor für leere Ladenlokale und ist heute eine offene Werkstatt, "
            "in der auch Stadtmöbel mit Sensoren und Fahrrad-Sensoren entstehen."
        ),
    ),
    DemoPlace(
        name="Makerspace im uzwei",
        town="Dortmund",
        types=("workshop",),
        anchor_type=3,
        operator="Kulturprojekt",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://aufderuzwei.de/event/open-space",
        description=(
            "Offene Werkstatt im uzwei, getragen von einem Kulturprojekt; "
            "Ankerort von Dortmund und Schwerte."
        ),
    ),
    # --- Typ 4: Kokreative Labore ---------------------------------------------------
    DemoPlace(
        name="CityLAB Berlin",
        town="Berlin",
        types=("colab",),
        anchor_type=4,
        operator="Technologiestiftung Berlin",
        opening_hours=None,  # "bis zu 40 Stunden pro Woche", times not given
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://citylab-berlin.org",
        description=(
            "Öffentliche Ideenwerkstatt, in der Verwaltung, Wissenschaft, Wirtschaft und "
            "Bürger gemeinsam digitale Lösungen für die Stadt erproben, etwa „Gieß den Kiez“."
        ),
    ),
    DemoPlace(
        name="POTSDAM LAB",
        town="Potsdam",
        types=("colab",),
        anchor_type=4,
        operator="proWissen Potsdam e. V. für die Stadt Potsdam",
        opening_hours="Mo-Fr 10:00-18:00",  # "werktags von 10 bis 18 Uhr"
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://smartcity.potsdam.de/de/das-potsdam-lab-ein-raum-fuer-neue-ideen-fuer-die-stadt",
        description=(
            "Raum im Bildungsforum in der Innenstadt, in dem Bürger, Wissenschaft und "
            "Verwaltung gemeinsam Ideen für die Stadt entwickeln und testen, etwa neue Stadtmöbel."
        ),
    ),
    # --- Typ 5: Plattformen zwischen Wirtschaft, Wissenschaft und Stadt ---------------
    DemoPlace(
        name="JEDI – Jena Digital Innovation Hub",
        town="Jena",
        types=("network",),
        anchor_type=5,
        operator="Stadt Jena (Wirtschaftsförderung) und Jena Digital e. V.",
        opening_hours=None,  # "keine regelmäßigen Öffnungszeiten"
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://jena-digital.de/jedi",
        description=(
            "Treffpunkt der Digitalwirtschaft in der Innenstadt mit öffentlichen Gesprächsreihen, "
            "Stammtischen und Ausstellung zum Ausprobieren. Keine festen Öffnungszeiten, "
            "offen bei Veranstaltungen."
        ),
    ),
    DemoPlace(
        name="Buntspeicher",
        town="Zwönitz",
        types=("network", "workshop"),
        anchor_type=5,
        operator="Smart-City-Team Zwönitz",
        opening_hours=None,
        mobile=False,
        equipment=(),
        step_free=None,
        cost=None,
        registration_required=None,
        website="https://buntspeicher.com",
        description=(
            "Gründerzentrum in einem denkmalgeschützten Speicher von 1912, mit offener Werkstatt "
            "für digitale Werkzeuge und Gemeinschaftsbüros; regelmäßig offene Werkstatt-Termine."
        ),
    ),
)
