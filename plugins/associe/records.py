"""The in-memory form of a validated entry, shared by every stage after validation."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Place:
    """Where an entry is, resolved against the official geography (stage 3, enrich)."""
    commune: str | None          # INSEE code, None for a département/région/national example
    commune_nom: str | None
    departement: str | None      # code, None for a région-wide or national example
    departement_nom: str | None
    region: str | None
    region_nom: str | None
    lat: float | None            # the commune's point, or its département's chef-lieu as fallback
    lon: float | None


@dataclass(slots=True)
class Entry:
    """One YAML file: ``kind`` is organisation, besoin, offre or exemple; ``id`` is the file stem.

    ``data`` is the YAML mapping as loaded and validated. Templates read fields directly
    (``entry.titre`` works in Jinja through ``__getitem__``)."""
    kind: str
    id: str
    path: str                    # relative to the project root, POSIX
    data: dict[str, Any]
    place: Place | None = None
    organisation: "Entry | None" = None   # resolved reference (besoin/offre)
    extra: dict[str, Any] = field(default_factory=dict)  # derived values of later stages

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.data

    @property
    def fictitious(self) -> bool:
        return bool(self.data.get("fictif"))

    @property
    def title(self) -> str:
        return self.data.get("titre") or self.data.get("nom") or self.id


@dataclass
class Corpus:
    """Every entry of the directory, by kind then id (ids sorted: stable output)."""
    organisations: dict[str, Entry] = field(default_factory=dict)
    besoins: dict[str, Entry] = field(default_factory=dict)
    offres: dict[str, Entry] = field(default_factory=dict)
    exemples: dict[str, Entry] = field(default_factory=dict)

    def of_kind(self, kind: str) -> dict[str, Entry]:
        return getattr(self, _FIELD_OF_KIND[kind])   # KeyError for an unknown kind

    def all(self):
        for kind in ("organisation", "besoin", "offre", "exemple"):
            yield from self.of_kind(kind).values()


_FIELD_OF_KIND = {"organisation": "organisations", "besoin": "besoins", "offre": "offres", "exemple": "exemples"}
