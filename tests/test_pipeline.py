"""The pipeline without Pelican: freshness on the build date, demo entries, failure on any error."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from associe.pipeline import is_expired, run_pipeline
from associe.problems import PipelineError

BASE = Path(__file__).parent / "fixtures" / "validation" / "base"


def test_entries_are_placed_and_matched():
    site = run_pipeline(BASE, dt.date(2026, 11, 24))
    need = site.corpus.besoins["ordinateurs-portables-dijon"]
    assert (need.place.commune_nom, need.place.departement, need.place.region) == ("Dijon", "21", "27")
    assert need.organisation.id == "atelier-numerique-dijon"
    [suggestion] = site.matches.for_need["ordinateurs-portables-dijon"]
    assert suggestion.offer_id == "parc-informatique-chenove"
    assert any(reason.startswith("à 4 km (Dijon → Chenôve)") for reason in suggestion.reasons)


def test_an_entry_past_its_date_is_no_longer_listed_nor_matched():
    # the need is valid until 2027-03-31 included
    on_last_day = run_pipeline(BASE, dt.date(2027, 3, 31))
    assert [e.id for e in on_last_day.listed["besoin"]] == ["ordinateurs-portables-dijon"]
    assert on_last_day.matches.for_need
    day_after = run_pipeline(BASE, dt.date(2027, 4, 1))
    assert day_after.listed["besoin"] == []
    assert [e.id for e in day_after.expired] == ["ordinateurs-portables-dijon"]
    assert not day_after.matches.pairs
    assert is_expired(day_after.corpus.besoins["ordinateurs-portables-dijon"], dt.date(2027, 4, 1))


def test_an_entry_published_after_the_build_date_is_not_listed_yet():
    site = run_pipeline(BASE, dt.date(2026, 9, 20))  # the need is published on 2026-10-01
    assert site.listed["besoin"] == [] and site.expired == []


def test_demo_entries_can_be_left_out():
    site = run_pipeline(BASE, dt.date(2026, 11, 24), include_fictitious=False)
    assert site.listed["besoin"] == [] and site.listed["offre"] == []
    assert [e.id for e in site.listed["exemple"]] == ["banque-alimentaire-ibm"]  # a real example stays


def test_any_invalid_entry_fails_the_pipeline_with_every_problem(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(BASE, root)
    need = root / "besoins" / "ordinateurs-portables-dijon.yaml"
    need.write_text(need.read_text(encoding="utf-8").replace('"21231"', '"21999"').replace("ouvert", "ouvrt"), encoding="utf-8")
    with pytest.raises(PipelineError) as raised:
        run_pipeline(root, dt.date(2026, 11, 24), root=root)
    text = str(raised.value)
    assert "besoins/ordinateurs-portables-dijon.yaml:14:12: territoire.commune" in text
    assert "besoins/ordinateurs-portables-dijon.yaml:22:9: statut" in text
