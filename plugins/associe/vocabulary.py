"""Controlled vocabularies, read from the single place they are defined:
``schemas/definitions.schema.json`` (each vocabulary is an ``enum`` with its French labels
in ``x-libelles``). Schemas, templates, forms and the matcher all read them from here."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from .paths import SCHEMAS_DIR

VOCABULARIES = ("nature", "taille", "type_de_soutien", "categorie", "objet", "thematique", "portee", "statut", "echelle")


@lru_cache(maxsize=None)
def load_vocabularies(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, dict[str, str]]:
    """Return ``{vocabulary: {value: French label}}`` in the order of the schema."""
    definitions = json.loads((schemas_dir / "definitions.schema.json").read_text(encoding="utf-8"))["definitions"]
    return {name: dict(definitions[name]["x-libelles"]) for name in VOCABULARIES}


def label(vocabulary: str, value: str) -> str:
    """French label of ``value``; the raw value if unknown (never raises in templates)."""
    return load_vocabularies().get(vocabulary, {}).get(value, value)


def title(vocabulary: str) -> str:
    definitions = json.loads((SCHEMAS_DIR / "definitions.schema.json").read_text(encoding="utf-8"))["definitions"]
    return definitions[vocabulary]["title"]
