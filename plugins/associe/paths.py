"""Where the project's files are. The schemas are found next to the package in a checkout
(``<root>/schemas``); ``ASSOCIE_ROOT`` overrides the root for unusual layouts."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("ASSOCIE_ROOT", PACKAGE_DIR.parent.parent)).resolve()
SCHEMAS_DIR = ROOT / "schemas"
CONTENT_DIR = ROOT / "content"
DATA_DIR = PACKAGE_DIR / "data"

# content folder name -> kind of entry (one schema per kind)
KIND_FOLDERS = {
    "organisations": "organisation",
    "besoins": "besoin",
    "offres": "offre",
    "exemples": "exemple",
}
FOLDER_OF_KIND = {kind: folder for folder, kind in KIND_FOLDERS.items()}
