"""Fictional municipality org snapshots (docs/snapshot.md): what `validate` renders against
while the store is empty, and what tests, samples and benchmarks are made from.

`generate_org` builds a "Kolding Kommune" of any size: a unit tree of up to four levels
(municipality > forvaltning > afdeling > institution), Danish names with æ ø å and
accents (and many people sharing a full name), engagements that are active, ended or
future relative to `as_of`, managers, leaves, associations, roles, addresses, IT
systems and persons' IT users in them. The result is a plain dict in the snapshot
shape, ready for `json.dump`.

Deterministic: every choice comes from one `random.Random(seed)` and from `as_of`, and
nothing iterates a set, so the same arguments give the same snapshot in every process.
Standard library only, so that test tooling never needs an extra package.

Invariants the tests rely on:
- every reference (parent, person, unit, owner) names a record in the snapshot, and the
  unit tree has one root ("u-root") and no cycles;
- on any day, a person with an active engagement has exactly one active primary one
  (a person's primaries follow each other without overlap; secondary engagements lie
  within the span of the primaries);
- unit names are unique, person email addresses are unique.
"""

from __future__ import annotations

import io
import json
import random
import re
import unicodedata
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import accumulate
from typing import Any, TextIO

Record = dict[str, Any]
Snapshot = dict[str, list[Record]]

DEFAULT_AS_OF = date(2026, 12, 1)
MAIL_DOMAIN = "kolding.example"
ROOT_ID = "u-root"
ROOT_NAME = "Kolding Kommune"
KINDS = (
    "units", "persons", "engagements", "associations", "managers",
    "addresses", "leaves", "roles", "it_systems", "it_users",
)

# -- names ------------------------------------------------------------------------------
# Ordered roughly by frequency: the first names are drawn most often, so that full
# names repeat the way they do in a real Danish workplace.

GIVEN_NAMES = (
    "Anne", "Peter", "Mette", "Jens", "Kirsten", "Michael", "Hanne", "Lars", "Susanne",
    "Henrik", "Helle", "Søren", "Lene", "Thomas", "Marianne", "Niels", "Camilla", "Jan",
    "Pia", "Christian", "Louise", "Martin", "Charlotte", "Anders", "Tina", "Morten", "Gitte",
    "Jesper", "Bente", "Mads", "Karen", "Rasmus", "Lone", "Jørgen", "Jette", "Hans", "Maria",
    "Per", "Julie", "Ole", "Sofie", "Kim", "Ida", "Mikkel", "Emma", "Frederik", "Freja",
    "Kasper", "Line", "Torben", "Maja", "Claus", "Trine", "Poul", "Birgitte", "Bent",
    "Dorthe", "Erik", "Signe", "Steen", "Lærke", "Bjørn", "Åse", "Kåre", "Bodil", "Åge",
    "Inge", "Jørn", "Tove", "Bo", "Astrid", "Ib", "Ulla", "Aksel", "Grethe", "Jakob",
    "Jytte", "Tobias", "Else", "Magnus", "Rikke", "Emil", "Malene", "Oliver", "Christina",
    "William", "Katrine", "Noah", "Nanna", "Lucas", "Cecilie", "Victor", "Mathilde",
    "Malthe", "Josefine", "Andreas", "Karoline", "Alexander", "Elisabeth", "Benjamin",
    "Kristoffer", "Johannes", "René", "André", "Renée", "Zoë", "Chloé", "Øjvind", "Ørnulf",
    "Sørine", "Mikaël",
)
MIDDLE_NAMES = ("Marie", "Sofie", "Louise", "Kristine", "Johan", "Peter", "Christian", "Emil",
                "Bjørn", "Åge", "Møller", "Bech")
SURNAMES = (
    "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
    "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
    "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Knudsen",
    "Jakobsen", "Jacobsen", "Mikkelsen", "Olesen", "Frederiksen", "Laursen", "Henriksen",
    "Lund", "Schmidt", "Eriksen", "Holm", "Kristiansen", "Clausen", "Simonsen", "Svendsen",
    "Andreasen", "Iversen", "Jeppesen", "Vestergaard", "Nørgaard", "Søndergaard",
    "Østergaard", "Lauridsen", "Kjær", "Bæk", "Damgaard", "Skovgaard", "Bøgh", "Højgaard",
    "Brøndum", "Dahl", "Bech", "Lindberg", "Thygesen", "Friis", "Ærenlund", "Ågaard",
    "Ødum", "Krüger", "Müller", "Bødker", "Rømer", "Ægidius", "Åkjær", "Hørlyck",
    "Brønnum", "Dupré", "Lefèvre", "Kühl", "Gjødesen",
)
NICKNAMES = {
    "Charlotte": "Lotte", "Christian": "Chris", "Frederik": "Freddy", "Katrine": "Trine",
    "Alexander": "Alex", "Benjamin": "Ben", "Kristoffer": "Kris", "Johannes": "Hans",
    "Susanne": "Sanne", "Birgitte": "Bitten", "Mikkel": "Mikke", "Cecilie": "Cille",
    "Josefine": "Fie", "Mathilde": "Tilde", "Andreas": "Andy", "Elisabeth": "Lis",
    "Rasmus": "Ras", "Christina": "Tina", "Jørgen": "Jørn", "Kåre": "Kalle",
}

# -- the organisation -----------------------------------------------------------------


@dataclass(frozen=True)
class _Dept:
    """An afdeling (level 2): its staff's job functions, its institutions' leader title."""

    name: str
    jobs: tuple[str, ...]
    leader: str
    children: tuple[tuple[str, str], ...]  # (name template with {}, unit_type)


AREAS: tuple[tuple[str, tuple[_Dept, ...]], ...] = (
    ("Børn og Unge", (
        _Dept("Dagtilbud", ("Pædagog", "Pædagogmedhjælper", "Pædagogisk assistent",
                            "Dagplejer", "Køkkenmedhjælper"), "Dagtilbudsleder",
              (("Børnehuset {}", "Daginstitution"), ("Vuggestuen {}", "Daginstitution"),
               ("Børnehaven {}", "Daginstitution"), ("Dagplejen {}", "Dagpleje"))),
        _Dept("Skoler", ("Lærer", "Skolepædagog", "Skolesekretær", "Pædagog",
                         "Servicemedarbejder"), "Skoleleder",
              (("{} Skole", "Skole"), ("SFO {}", "SFO"))),
        _Dept("Familie og Forebyggelse", ("Socialrådgiver", "Sagsbehandler",
                                          "Familiebehandler", "Psykolog"), "Afdelingsleder",
              (("Familiecenter {}", "Team"), ("Ungeteam {}", "Team"))),
        _Dept("PPR", ("Psykolog", "Tale-høre-konsulent", "Sagsbehandler"), "PPR-leder",
              (("PPR {}", "Team"),)),
    )),
    ("Social og Sundhed", (
        _Dept("Ældrepleje", ("Social- og sundhedshjælper", "Social- og sundhedsassistent",
                             "Sygeplejerske", "Ergoterapeut", "Fysioterapeut"),
              "Plejecenterleder",
              (("Plejecenter {}", "Plejecenter"), ("Hjemmeplejen {}", "Hjemmepleje"))),
        _Dept("Sundhed", ("Sygeplejerske", "Sundhedsplejerske", "Tandlæge",
                          "Klinikassistent"), "Centerleder",
              (("Sundhedscenter {}", "Center"), ("Tandplejen {}", "Klinik"))),
        _Dept("Handicap og Psykiatri", ("Socialpædagog", "Pædagog",
                                        "Social- og sundhedsassistent", "Sagsbehandler"),
              "Forstander", (("Bostedet {}", "Botilbud"), ("Værestedet {}", "Botilbud"))),
    )),
    ("Teknik og Miljø", (
        _Dept("Vej og Park", ("Vejarbejder", "Gartner", "Maskinfører", "Ingeniør"),
              "Driftsleder", (("Materielgården {}", "Driftsenhed"),
                              ("Driftsområde {}", "Driftsenhed"))),
        _Dept("Byggeri og Plan", ("Byggesagsbehandler", "Arkitekt", "Landinspektør",
                                  "Ingeniør"), "Afdelingsleder",
              (("Byggesagsteam {}", "Team"),)),
        _Dept("Natur og Miljø", ("Biolog", "Miljømedarbejder", "Sagsbehandler"),
              "Afdelingsleder", (("Naturcenter {}", "Center"),)),
    )),
    ("Kultur og Fritid", (
        _Dept("Biblioteker", ("Bibliotekar", "Biblioteksassistent", "Formidler"),
              "Biblioteksleder", (("{} Bibliotek", "Bibliotek"),)),
        _Dept("Idræt og Fritid", ("Fritidskonsulent", "Idrætsmedarbejder", "Klubmedarbejder",
                                  "Pedel"), "Centerleder",
              (("{} Idrætscenter", "Center"), ("Ungdomsklubben {}", "Klub"))),
        _Dept("Museer", ("Museumsinspektør", "Formidler", "Konservator"), "Museumsleder",
              (("Museet på {}", "Museum"),)),
    )),
    ("Beskæftigelse", (
        _Dept("Jobcenter", ("Jobkonsulent", "Sagsbehandler", "Virksomhedskonsulent",
                            "Socialrådgiver"), "Jobcenterleder",
              (("Jobcenter {}", "Center"), ("Ungeindsatsen {}", "Team"))),
        _Dept("Ydelser", ("Sagsbehandler", "Ydelsesmedarbejder", "Kontrolmedarbejder"),
              "Teamleder", (("Ydelsesteam {}", "Team"),)),
    )),
    ("Borgerservice og Administration", (
        _Dept("Borgerservice", ("Borgerservicemedarbejder", "Sagsbehandler", "Kontorelev"),
              "Borgerservicechef", (("Borgerservice {}", "Borgerservicecenter"),)),
        _Dept("HR og Løn", ("HR-konsulent", "Lønkonsulent", "Arbejdsmiljøkonsulent"),
              "HR-chef", (("HR-team {}", "Team"),)),
        _Dept("IT og Digitalisering", ("IT-supporter", "IT-arkitekt", "Systemadministrator",
                                       "Digitaliseringskonsulent"), "IT-chef",
              (("IT-team {}", "Team"),)),
        _Dept("Økonomi", ("Økonomikonsulent", "Bogholder", "Controller"), "Økonomichef",
              (("Økonomiteam {}", "Team"),)),
    )),
)
ROOT_JOBS = ("Chefkonsulent", "Direktionssekretær", "Specialkonsulent", "Jurist")
AREA_JOBS = ("Konsulent", "Specialkonsulent", "Administrativ medarbejder", "Chefsekretær")
DISTRICTS = ("Nord", "Syd", "Øst", "Vest", "Midt")
PLACES = (
    "Ærtebjerg", "Sønderskov", "Kærby", "Bøgely", "Strandhøj", "Lyshøj", "Vonsild", "Dalby",
    "Seest", "Harte", "Viuf", "Bramdrup", "Hjarup", "Vamdrup", "Lunderskov", "Christiansfeld",
    "Skærbæk", "Ødis", "Eltang", "Almind", "Brændkjær", "Nørremarken", "Solgården",
    "Egebjerg", "Fjordglimt", "Møllebakken", "Æblehaven", "Enghøj", "Kirkebakken",
    "Skovbrynet", "Søgården", "Rosenhaven", "Grønnegården", "Kløverengen", "Dyrehaven",
    "Marielund", "Sdr. Stenderup", "Taps", "Bjert", "Agtrup", "Sjølund", "Hejls",
    "Vester Nebel", "Ågården", "Åbakken", "Hyldgården", "Tved", "Ødsted", "Jordrup",
)
STREETS = ("Skolevej", "Kirkegade", "Østergade", "Søndergade", "Nørregade", "Vestergade",
           "Møllevej", "Åvej", "Bøgevej", "Egevej", "Ærøvej", "Lærkevej", "Rosenvænget",
           "Kærvej", "Fjordvej", "Sct. Jørgens Gade")
POSTCODES = ("6000 Kolding", "6000 Kolding", "6000 Kolding", "6070 Christiansfeld",
             "6580 Vamdrup", "6640 Lunderskov", "6091 Bjert", "6092 Sønder Stenderup",
             "6093 Sjølund", "6051 Almind", "6052 Viuf")

LEVEL_STAFF_WEIGHT = (3, 3, 4, 10)  # institutions hold most of the staff
MANAGED_SHARE = (1.0, 1.0, 0.85, 0.7)  # the rest of the units have no manager of their own
MANAGER_TYPES = ("Direktør", "Direktør", "Chef", "Leder")
RESPONSIBILITIES = (
    "Personale: ansættelse/afskedigelse", "Personale: MUS-kompetence",
    "Personale: arbejdstilrettelæggelse", "Økonomi", "Arbejdsmiljø",
)
PRIMARY_TYPES = ("Månedslønnet, fuldtid", "Månedslønnet, deltid", "Tjenestemand", "Elev",
                 "Vikar", "Fleksjob")
PRIMARY_TYPE_WEIGHTS = (60, 24, 5, 4, 5, 2)
SECONDARY_TYPES = ("Timelønnet", "Månedslønnet, deltid", "Vikar")
LEAVE_TYPES = ("Barselsorlov", "Forældreorlov", "Orlov uden løn", "Uddannelsesorlov",
               "Sygeorlov")
ASSOCIATION_TYPES = ("MED-udvalg", "Frivillig", "Ekstern konsulent", "Praktikant",
                     "Ressourceperson")
ROLE_TYPES = ("Tillidsrepræsentant", "Arbejdsmiljørepræsentant", "Superbruger",
              "Kontaktperson", "Systemadministrator")
IT_SYSTEMS = ("Active Directory", "Aula", "SBSYS", "OPUS Løn", "Nexus", "FLIS", "Momentum",
              "Outlook", "OS2mo", "Kitos", "Serviceplatformen", "Min Læring")
IT_USER_SHARE = 0.3  # of persons with accounts in the IT systems
MOBILE_PREFIXES = ("20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
                   "40", "41", "42", "50", "51", "52", "53", "60", "61", "71", "81", "91")

# A person's engagements follow one of these stories (see _Builder._person_engagements).
SINGLE_STORIES = ("active", "ended", "future")
SINGLE_WEIGHTS = (90, 6, 4)
MULTI_STORIES = ("active", "change", "upcoming", "ended")
MULTI_WEIGHTS = (63, 24, 8, 5)


def generate_org(
    units: int,
    persons: int,
    engagements: int | None = None,
    seed: int = 1,
    as_of: date = DEFAULT_AS_OF,
) -> Snapshot:
    """A fictional municipality with exactly `units` units, `persons` persons and
    `engagements` engagements (default: 1.3 per person), dated relative to `as_of`.

    Every person gets one engagement before anyone gets a second, so with fewer
    engagements than persons the last persons have none (they are externals).
    """
    if units < 1:
        raise ValueError("an org needs at least its root unit")
    if persons < 0 or (engagements is not None and engagements < 0):
        raise ValueError("persons and engagements cannot be negative")
    if engagements is None:
        engagements = round(persons * 1.3)
    if engagements and not persons:
        raise ValueError("engagements need persons")
    return _Builder(units, persons, engagements, seed, as_of).build()


# -- output -----------------------------------------------------------------------------


def write_snapshot(snapshot: Snapshot, out: TextIO) -> None:
    """JSON with one record per line: diffs of a shipped sample stay readable, and a
    100k-person file is written without building one huge string."""
    kinds = list(snapshot)
    out.write("{\n")
    for n, kind in enumerate(kinds):
        comma = "," if n < len(kinds) - 1 else ""
        records = snapshot[kind]
        if not records:
            out.write(f'  "{kind}": []{comma}\n')
            continue
        out.write(f'  "{kind}": [\n')
        last = len(records) - 1
        for i, record in enumerate(records):
            out.write("    " + json.dumps(record, ensure_ascii=False))
            out.write(",\n" if i < last else "\n")
        out.write(f"  ]{comma}\n")
    out.write("}\n")


def dumps_snapshot(snapshot: Snapshot) -> str:
    buffer = io.StringIO()
    write_snapshot(snapshot, buffer)
    return buffer.getvalue()


# -- transliteration ------------------------------------------------------------------

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@lru_cache(maxsize=4096)
def ascii_words(text: str) -> tuple[str, ...]:
    """Lower-case ASCII words of a name: æ→ae, ø→oe, å→aa, other accents dropped."""
    folded = unicodedata.normalize("NFKD", text.translate(_DANISH))
    return tuple(_WORD.findall(folded.encode("ascii", "ignore").decode().lower()))


def mail_local(given_name: str, surname: str) -> str:
    """firstname.surname, as the municipality's mail system would spell it."""
    return ".".join((*ascii_words(given_name), *ascii_words(surname)))


# -- the builder ----------------------------------------------------------------------


@dataclass(slots=True)
class _Staff:
    """The active primary engagement of a person on `as_of`, for managers, leaves, roles."""

    person: int
    unit: int
    start: int  # ordinal
    record: Record


class _Builder:
    """One generation run: the random stream, the output lists and the indexes between."""

    def __init__(self, units: int, persons: int, engagements: int, seed: int,
                 as_of: date) -> None:
        self.rng = random.Random(seed)
        self.n_units, self.n_persons, self.n_engagements = units, persons, engagements
        self.today = as_of.toordinal()
        self.founded = date(as_of.year - 20, 1, 1).toordinal()
        self.width = max(4, len(str(max(units, persons, engagements))))
        self.out: Snapshot = {kind: [] for kind in KINDS}
        self._iso_cache: dict[int, str] = {}
        self._counters: dict[str, int] = {}
        self._unit_names: dict[str, int] = {}
        self._mail_names: dict[str, int] = {}
        # per unit, parallel to out["units"]
        self.unit_ids: list[str] = []
        self.unit_level: list[int] = []
        self.unit_parent: list[int] = []
        self.unit_start: list[int] = []
        self.unit_jobs: list[tuple[str, ...]] = []
        self.unit_leader: list[str] = []
        self.unit_staff: list[list[_Staff]] = []
        # per person
        self.person_ids: list[str] = []
        self.staff: list[_Staff] = []

    def build(self) -> Snapshot:
        for step in (self._units, self._persons, self._engagements, self._managers,
                     self._leaves, self._associations, self._roles, self._addresses,
                     self._it_systems, self._it_users):
            step()
        return self.out

    # helpers

    def iso(self, ordinal: int | None) -> str | None:
        """ISO date, cached: few distinct days, many records, one shared string each."""
        if ordinal is None:
            return None
        text = self._iso_cache.get(ordinal)
        if text is None:
            text = self._iso_cache[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    def next_id(self, prefix: str) -> str:
        n = self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}{n:0{self.width}d}"

    def add(self, kind: str, prefix: str, **fields: Any) -> Record:
        record = {"id": self.next_id(prefix), **fields}
        self.out[kind].append(record)
        return record

    def dated(self, kind: str, prefix: str, start: int | None, end: int | None,
              **fields: Any) -> Record:
        return self.add(kind, prefix, **fields, valid_from=self.iso(start),
                        valid_to=self.iso(end))

    @staticmethod
    def unique(name: str, taken: dict[str, int], sep: str = " ") -> str:
        n = taken[name] = taken.get(name, 0) + 1
        return name if n == 1 else f"{name}{sep}{n}"

    def active(self, start: int | None, end: int | None) -> bool:
        return (start is None or start <= self.today) and (end is None or self.today <= end)

    # units

    def _units(self) -> None:
        self._add_unit(ROOT_ID, ROOT_NAME, -1, "Kommune", ROOT_JOBS, "Kommunaldirektør",
                       self.founded)
        rest = self.n_units - 1
        n1 = min(len(AREAS), max(1, round(rest / 8)), rest)
        n2 = min(rest - n1, max(n1, round((rest - n1) ** 0.5 * 1.6)))
        areas = AREAS[:n1]
        level1 = [self._add_unit(self.next_id("u"), name, 0, "Forvaltning", AREA_JOBS,
                                 "Direktør", self.founded) for name, _ in areas]
        depts = [self._add_dept(i, areas, level1) for i in range(n2)]
        for _ in range(rest - n1 - n2):
            self._add_institution(*self.rng.choice(depts))

    def _add_dept(self, i: int, areas: Sequence[tuple[str, tuple[_Dept, ...]]],
                  level1: list[int]) -> tuple[int, _Dept]:
        """Departments round-robin over the areas; repeats get a district ("Skoler Nord")."""
        area = i % len(areas)
        choices = areas[area][1]
        lap, k = divmod(i // len(areas), len(choices))
        dept = choices[k]
        name = dept.name if lap == 0 else f"{dept.name} {DISTRICTS[(lap - 1) % len(DISTRICTS)]}"
        jobs = (*dept.jobs, "Administrativ medarbejder")
        unit = self._add_unit(self.next_id("u"), name, level1[area], "Afdeling", jobs,
                              "Afdelingschef", self.founded)
        return unit, dept

    def _add_institution(self, parent: int, dept: _Dept) -> None:
        rng = self.rng
        template, unit_type = rng.choice(dept.children)
        start = self.founded if rng.random() < 0.9 else rng.randint(self.founded,
                                                                    self.today - 800)
        self._add_unit(self.next_id("u"), template.format(rng.choice(PLACES)), parent,
                       unit_type, dept.jobs, dept.leader, start)

    def _add_unit(self, uid: str, name: str, parent: int, unit_type: str,
                  jobs: tuple[str, ...], leader: str, start: int) -> int:
        index = len(self.unit_ids)
        level = 0 if parent < 0 else self.unit_level[parent] + 1
        self.out["units"].append({
            "id": uid, "name": self.unique(name, self._unit_names),
            "parent": self.unit_ids[parent] if parent >= 0 else None,
            "unit_type": unit_type, "valid_from": self.iso(start), "valid_to": None,
        })
        self.unit_ids.append(uid)
        self.unit_level.append(level)
        self.unit_parent.append(parent)
        self.unit_start.append(start)
        self.unit_jobs.append(jobs)
        self.unit_leader.append(leader)
        self.unit_staff.append([])
        return index

    # persons

    def _persons(self) -> None:
        rng, n = self.rng, self.n_persons
        givens = rng.choices(GIVEN_NAMES, cum_weights=_zipf(len(GIVEN_NAMES)), k=n)
        surnames = rng.choices(SURNAMES, cum_weights=_zipf(len(SURNAMES)), k=n)
        persons, random_ = self.out["persons"], rng.random
        for given, surname in zip(givens, surnames, strict=True):
            r = random_()
            if r < 0.06:
                given = f"{given} {rng.choice(MIDDLE_NAMES)}"
            elif r < 0.09:
                surname = f"{rng.choice(SURNAMES)} {surname}"
            elif r < 0.11:
                surname = f"{rng.choice(SURNAMES)}-{surname}"
            pid = self.next_id("p")
            record = {"id": pid, "given_name": given, "surname": surname}
            nickname = NICKNAMES.get(given)
            if nickname and random_() < 0.4:
                record["nickname"] = nickname
            persons.append(record)
            self.person_ids.append(pid)

    # engagements

    def _engagements(self) -> None:
        counts = self._engagement_counts()
        units = iter(self.rng.choices(range(self.n_units), cum_weights=self._staff_weights(),
                                      k=self.n_engagements))
        for person, count in enumerate(counts):
            if count:
                self._person_engagements(person, count, units.__next__)

    def _engagement_counts(self) -> list[int]:
        """One each first, then the extra ones to random persons (some get three)."""
        n, total = self.n_persons, self.n_engagements
        counts = [1] * min(n, total) + [0] * max(0, n - total)
        randrange = self.rng.randrange
        for _ in range(total - n):
            counts[randrange(n)] += 1
        return counts

    def _staff_weights(self) -> list[int]:
        sizes = (1, 2, 3, 5)
        weights = [LEVEL_STAFF_WEIGHT[level] * self.rng.choice(sizes)
                   for level in self.unit_level]
        return list(accumulate(weights))

    def _person_engagements(self, person: int, count: int, draw: Callable[[], int]) -> None:
        """The primaries first (one story), then secondaries inside the primaries' span."""
        rng, today = self.rng, self.today
        if count == 1:
            story = _pick(rng, SINGLE_STORIES, _SINGLE_CUM)
        else:
            story = _pick(rng, MULTI_STORIES, _MULTI_CUM)
        unit = draw()
        etype = _pick(rng, PRIMARY_TYPES, _PRIMARY_TYPE_CUM)
        if story == "active":
            start = rng.randint(self.unit_start[unit], today - 1)
            end = None if rng.random() < 0.93 else today + rng.randint(1, 500)
            self._primary(person, unit, start, end, etype)
            span = (start, end)
        elif story == "ended":
            end = today - rng.randint(1, 365)
            start = rng.randint(self.unit_start[unit], end - 30)
            self._primary(person, unit, start, end, etype)
            span = (start, end)
        elif story == "future":
            start = today + rng.randint(1, 60)
            self._primary(person, unit, start, None, etype)
            span = (start, None)
        else:  # "change" already happened, or "upcoming": a new primary takes over
            if story == "change":
                switch = today - rng.randint(1, 700)
            else:
                switch = today + rng.randint(1, 90)
            start = rng.randint(self.unit_start[unit], min(switch - 60, today - 1))
            self._primary(person, unit, start, switch - 1, etype)
            self._primary(person, draw(), switch, None, etype)
            count -= 1
            span = (start, None)
        for _ in range(count - 1):
            self._secondary(person, draw(), *span)

    def _primary(self, person: int, unit: int, start: int, end: int | None,
                 etype: str) -> None:
        record = self._engagement(person, unit, True, start, end, etype)
        if self.active(start, end):
            staff = _Staff(person, unit, start, record)
            self.staff.append(staff)
            self.unit_staff[unit].append(staff)

    def _secondary(self, person: int, unit: int, lo: int, hi: int | None) -> None:
        """Within [lo, hi] so that the person always has a primary while it runs."""
        rng, today = self.rng, self.today
        lo = max(lo, self.unit_start[unit])  # units start >= 800 days ago: lo <= hi
        if lo < today and rng.random() < 0.85:
            start = rng.randint(lo, today - 1)
        else:
            start = lo + rng.randint(0, 120)
        if hi is not None:
            start = min(start, hi)
            end: int | None = rng.randint(start, hi)
        else:
            end = None if rng.random() < 0.6 else start + rng.randint(30, 2000)
        self._engagement(person, unit, False, start, end, rng.choice(SECONDARY_TYPES))

    def _engagement(self, person: int, unit: int, primary: bool, start: int,
                    end: int | None, etype: str) -> Record:
        return self.add(
            "engagements", "e", person=self.person_ids[person], unit=self.unit_ids[unit],
            job_function=self.rng.choice(self.unit_jobs[unit]), engagement_type=etype,
            primary=primary, valid_from=self.iso(start), valid_to=self.iso(end),
        )

    # managers

    def _managers(self) -> None:
        """A leader engaged in the unit; some institutions share their sibling's leader."""
        rng = self.rng
        shared: dict[int, tuple[str, int, int | None]] = {}
        for unit, level in enumerate(self.unit_level):
            if rng.random() >= MANAGED_SHARE[level]:
                continue
            parent = self.unit_parent[unit]
            if level == 3 and parent in shared and rng.random() < 0.15:
                person, since, until = shared[parent]
                since = max(since, self.unit_start[unit])
                if until is None or since <= until:
                    self._manager(person, unit, "Områdeleder", since, until)
                continue
            if not self.unit_staff[unit]:
                continue
            since, until, person = self._appoint(unit)
            if level == 3:
                shared[parent] = (person, since, until)

    def _appoint(self, unit: int) -> tuple[int, int | None, str]:
        rng = self.rng
        staff = rng.choice(self.unit_staff[unit])
        staff.record["job_function"] = self.unit_leader[unit]
        since = rng.randint(staff.start, self.today - 1)
        until = _ordinal(staff.record["valid_to"])
        person = self.person_ids[staff.person]
        mtype = MANAGER_TYPES[self.unit_level[unit]]
        if since - self.unit_start[unit] > 400 and rng.random() < 0.15:
            self._former_manager(unit, since, mtype)
        self._manager(person, unit, mtype, since, until)
        return since, until, person

    def _former_manager(self, unit: int, until: int, mtype: str) -> None:
        """History: the leader before, so that "manager on the day" has to be computed."""
        rng = self.rng
        person = self.person_ids[rng.randrange(self.n_persons)]
        since = rng.randint(max(self.unit_start[unit], until - 3000), until - 200)
        self._manager(person, unit, mtype, since, until - 1)

    def _manager(self, person: str, unit: int, mtype: str, since: int,
                 until: int | None) -> None:
        rng = self.rng
        picked = sorted(rng.sample(range(len(RESPONSIBILITIES)), rng.randint(1, 4)))
        self.dated("managers", "m", since, until, person=person, unit=self.unit_ids[unit],
                   manager_type=mtype, responsibilities=[RESPONSIBILITIES[i] for i in picked])

    # leaves, associations, roles

    def _leaves(self) -> None:
        rng, today = self.rng, self.today
        for staff in self.staff:
            r = rng.random()
            if r < 0.03:
                start = max(staff.start, today - rng.randint(1, 200))
                end = today + rng.randint(1, 300)
            elif r < 0.05:
                end = today - rng.randint(1, 700)
                start = end - rng.randint(14, 300)
                if start < staff.start:
                    continue
            else:
                continue
            self.dated("leaves", "l", start, end, person=self.person_ids[staff.person],
                       leave_type=rng.choice(LEAVE_TYPES))

    def _associations(self) -> None:
        """A few staff sit in a MED committee or help elsewhere; externals have only this."""
        rng, today = self.rng, self.today
        engaged = min(self.n_persons, self.n_engagements)
        for person in range(self.n_persons):
            if rng.random() >= (0.04 if person < engaged else 0.6):
                continue
            unit = rng.randrange(self.n_units)
            start = rng.randint(self.unit_start[unit], today - 1)
            end = None if rng.random() < 0.7 else start + rng.randint(30, 1500)
            self.dated("associations", "a", start, end, person=self.person_ids[person],
                       unit=self.unit_ids[unit], association_type=rng.choice(ASSOCIATION_TYPES))

    def _roles(self) -> None:
        rng, today = self.rng, self.today
        for staff in self.staff:
            if rng.random() >= 0.03:
                continue
            role = rng.choice(ROLE_TYPES)
            unit = None if role == "Systemadministrator" else self.unit_ids[staff.unit]
            start = rng.randint(staff.start, today - 1)
            end = None if rng.random() < 0.8 else today + rng.randint(1, 700)
            self.dated("roles", "r", start, end, person=self.person_ids[staff.person],
                       unit=unit, role_type=role)

    # addresses

    def _addresses(self) -> None:
        for record in self.out["persons"]:
            self._person_addresses(record)
        for unit, record in enumerate(self.out["units"]):
            self._unit_addresses(unit, record)

    def _person_addresses(self, person: Record) -> None:
        """Work email for all; a work phone for half; a private mobile, secret, for some."""
        rng, pid = self.rng, person["id"]
        local = mail_local(person["given_name"], person["surname"])
        local = self.unique(local, self._mail_names, sep="")
        visibility = "public" if rng.random() < 0.85 else "internal"
        self._address(pid, "email", f"{local}@{MAIL_DOMAIN}", visibility)
        r = rng.random()
        if r < 0.55:
            n = rng.randrange(1_000_000)
            visibility = "public" if r < 0.35 else "internal"
            self._address(pid, "phone", f"+45 79 {_pairs(n, 3)}", visibility)
        if rng.random() < 0.15:
            n = rng.randrange(1_000_000)
            self._address(pid, "phone", f"+45 {rng.choice(MOBILE_PREFIXES)} {_pairs(n, 3)}",
                          "secret")

    def _unit_addresses(self, unit: int, record: Record) -> None:
        rng, uid, level = self.rng, record["id"], self.unit_level[unit]
        if level == 3 or rng.random() < 0.3:
            street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}, {rng.choice(POSTCODES)}"
            self._address(uid, "postal", street, "public")
        if level < 3 or rng.random() < 0.4:
            local = self.unique("-".join(ascii_words(record["name"])), self._mail_names, "")
            self._address(uid, "email", f"{local}@{MAIL_DOMAIN}", "public")
        if rng.random() < 0.5:
            n = rng.randrange(1_000_000)
            self._address(uid, "phone", f"+45 79 {_pairs(n, 3)}", "public")

    def _address(self, owner: str, kind: str, value: str, visibility: str) -> None:
        self.add("addresses", "ad", owner=owner, type=kind, value=value,
                 visibility=visibility, valid_from=None, valid_to=None)

    def _it_systems(self) -> None:
        for name in IT_SYSTEMS:
            self.add("it_systems", "it", name=name)

    def _it_users(self) -> None:
        """Accounts some persons have in the IT systems, a few ended or not yet begun.
        Drawn last, so every other kind stays as a seed gave it before."""
        rng, systems = self.rng, self.out["it_systems"]
        for person in self.out["persons"]:
            if rng.random() >= IT_USER_SHARE:
                continue
            words = ascii_words(f"{person['given_name']} {person['surname']}")
            username = "".join(word[:3] for word in words)[:8] or person["id"]
            for system in rng.sample(systems, rng.randint(1, 2)):
                start = self.today - rng.randint(-30, 4000)
                end = None if rng.random() < 0.9 else start + rng.randint(1, 4000)
                self.dated("it_users", "iu", start, end, person=person["id"],
                           it_system=system["id"], username=username,
                           external_id=f"{rng.randrange(16 ** 8):08x}")


_SINGLE_CUM = list(accumulate(SINGLE_WEIGHTS))
_MULTI_CUM = list(accumulate(MULTI_WEIGHTS))
_PRIMARY_TYPE_CUM = list(accumulate(PRIMARY_TYPE_WEIGHTS))


def _pick(rng: random.Random, values: Sequence[str], cum_weights: list[int]) -> str:
    """`rng.choices(...)[0]` without its per-call set-up, which shows in a 100k run."""
    return values[bisect(cum_weights, rng.random() * cum_weights[-1])]


def _zipf(n: int) -> list[float]:
    """Cumulative weights 1/(rank+4): common names common, rare names still drawn."""
    return list(accumulate(1 / (rank + 4) for rank in range(n)))


def _pairs(n: int, count: int) -> str:
    """123456 -> '12 34 56': Danish phone numbers are written in pairs."""
    digits = f"{n:0{2 * count}d}"
    return " ".join(digits[i:i + 2] for i in range(0, 2 * count, 2))


def _ordinal(iso: str | None) -> int | None:
    return None if iso is None else date.fromisoformat(iso).toordinal()
