"""The intake bot, driven by fixture folders (github-issue-parser style).

Each ``tests/fixtures/intake/<case>/`` holds ``form.yml`` (the template used and the issue's
metadata), ``issue-body.md`` (the body as GitHub writes it) and either ``expected.yaml``
(the files the bot writes: path -> content) or ``expected-comment.md`` (the French comment).
The cases cover CRLF, ``_No response_``, ``### `` headings typed inside an answer, missing
sections, answers coming from the site's form, and shell/YAML payloads in every free-text
field, which must come out literally and run nothing.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from associe import forms, intake
from associe.forms import FORMS
from associe.github_api import GitHub, GitHubError
from associe.intake import (dump_yaml, load_yaml, normalise, parse_body, process_issue, render_body, resolve_commune,
                            run_intake, slugify, unique_slug)
from associe.territories import load_geography
from associe.validation import check

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "intake"
CASES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
CONTENT = HERE / "fixtures" / "validation" / "base"
TODAY = dt.date(2026, 11, 10)
PAYLOADS = ['"; touch PWNED_MARKER_FILE; #', "$(touch PWNED_MARKER_FILE)", "`touch PWNED_MARKER_FILE`",
            "${{ github.token }}", "EOF", "NO", "01234", "!!python/object", "&a"]


@pytest.fixture(scope="module")
def geo():
    return load_geography()


def load_case(case: str) -> tuple[dict, dict]:
    folder = FIXTURES / case
    meta = yaml.safe_load((folder / "form.yml").read_text(encoding="utf-8"))
    body = (folder / "issue-body.md").read_bytes().decode("utf-8")
    if meta.get("line_endings") == "crlf" and "\r\n" not in body:
        body = body.replace("\n", "\r\n")   # git may have normalised the file: restore GitHub's CRLF
    info = meta["issue"]
    issue = {"number": info["number"], "title": info["title"], "body": body, "user": {"login": info["author"]},
             "created_at": info["created_at"], "state": "open", "author_association": "NONE",
             "labels": [{"name": "soumission"}, {"name": meta["template"].removesuffix(".yml")}]}
    return meta, issue


def all_strings(data) -> list[str]:
    if isinstance(data, dict):
        return [s for v in data.values() for s in all_strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in all_strings(v)]
    return [data] if isinstance(data, str) else []


# ------------------------------------------------------------------------------ fixtures
def test_there_are_fixtures_of_both_outcomes():
    assert any((FIXTURES / c / "expected.yaml").exists() for c in CASES)
    assert any((FIXTURES / c / "expected-comment.md").exists() for c in CASES)
    for case in CASES:
        meta, _ = load_case(case)
        assert (HERE.parent / ".github" / "ISSUE_TEMPLATE" / meta["template"]).is_file(), case


@pytest.mark.parametrize("case", CASES)
def test_fixture(case, geo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # a payload that ran would create PWNED_MARKER_FILE here
    meta, issue = load_case(case)
    outcome = process_issue(issue, geo, CONTENT, TODAY)
    folder = FIXTURES / case
    if (folder / "expected.yaml").exists():
        expected = load_yaml((folder / "expected.yaml").read_text(encoding="utf-8"))
        assert outcome.action == "pull", outcome.comment
        produced = {path: load_yaml(text) for path, text in outcome.files.items()}
        assert produced == expected
        for path, text in outcome.files.items():
            assert path.startswith("content/") and ".." not in path
            assert load_yaml(dump_yaml(load_yaml(text))) == load_yaml(text)
        # the written files pass the project's validator, with the directory as context
        for path, text in outcome.files.items():
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(text, encoding="utf-8")
        result = check([tmp_path / "content"], root=tmp_path, geography=geo, context_paths=[CONTENT])
        assert result.errors == []
    else:
        expected = (folder / "expected-comment.md").read_text(encoding="utf-8").rstrip("\n")
        assert outcome.action in ("errors", "missing")
        assert outcome.comment == expected
        assert outcome.files == {}
    assert not (tmp_path / "PWNED_MARKER_FILE").exists()
    assert not (HERE.parent / "PWNED_MARKER_FILE").exists()


def test_crlf_body_parses_like_lf(geo):
    _, issue = load_case("besoin-crlf-nouvelle-organisation")
    assert "\r\n" in issue["body"]
    crlf = process_issue(issue, geo, CONTENT, TODAY)
    lf = process_issue({**issue, "body": issue["body"].replace("\r\n", "\n")}, geo, CONTENT, TODAY)
    assert crlf.files == lf.files and crlf.action == "pull"
    assert all("\r" not in text for text in crlf.files.values())


def test_no_response_is_empty_never_the_literal():
    _, issue = load_case("besoin-organisation-existante")
    parsed = parse_body(issue["body"], FORMS["besoin"])
    assert "_No response_" in issue["body"]
    assert parsed.values["rayon_km"] is None and parsed.values["org_nom"] is None
    assert all(v is None or "_No response_" not in v for v in parsed.values.values())


def test_fake_headings_inside_an_answer_do_not_replace_other_answers(geo):
    _, issue = load_case("faux-intitules-dans-un-texte")
    outcome = process_issue(issue, geo, CONTENT, TODAY)
    entry = load_yaml(outcome.files["content/besoins/des-ecrans-pour-la-salle-informatique.yaml"])
    org = load_yaml(outcome.files["content/organisations/les-ecrans-partages.yaml"])
    assert org["nom"] == "Les Écrans Partagés"          # not « Organisation usurpée »
    assert entry["territoire"]["commune"] == "21231"     # Dijon, not Paris
    assert "### Commune\n\nParis" in entry["description"]
    assert any("vérifiez que chaque réponse est bien à sa place" in n for n in outcome.submission.notes)


def test_missing_sections_are_listed_and_stop_the_bot(geo):
    _, issue = load_case("sections-manquantes")
    outcome = process_issue(issue, geo, CONTENT, TODAY)
    assert outcome.action == "missing"
    assert "« Commune »" in outcome.comment and "« Valable jusqu'au »" in outcome.comment
    assert "« Description »" not in outcome.comment


@pytest.mark.parametrize("case", ["offre-charges-shell-et-yaml", "exemple-charges-et-partenaires"])
def test_payloads_come_out_literally(case, geo):
    _, issue = load_case(case)
    outcome = process_issue(issue, geo, CONTENT, TODAY)
    strings = [s for text in outcome.files.values() for s in all_strings(load_yaml(text))]
    for payload in PAYLOADS:
        assert any(payload in s for s in strings), payload
    if case.startswith("offre"):
        entry = load_yaml(outcome.files["content/offres/touch-pwned-marker-file-no-01234-id-github-token.yaml"])
        org = load_yaml(outcome.files["content/organisations/touch-pwned-marker-file-mobilier-no.yaml"])
        assert entry["titre"] == "$(touch PWNED_MARKER_FILE) ; NO 01234 `id` ${{ github.token }}"
        assert entry["quantite"] == {"valeur": 40, "unite": "$(touch PWNED_MARKER_FILE) chaises"}
        assert org["nom"] == '"; touch PWNED_MARKER_FILE; # Mobilier NO'
        assert "!!python/object/apply:os.system" in entry["description"]
        assert "\nEOF\nNO\n01234\n" in entry["description"]


def test_issue_text_never_reaches_paths_or_branch_names(geo):
    _, issue = load_case("besoin-organisation-existante")
    issue = {**issue, "title": "[Besoin] ../../.github/workflows/pwn", "number": 77}
    api = FakeGitHub()
    outcome = run_intake({"action": "opened", "issue": issue, "repository": {"default_branch": "main"}}, api, geo,
                         CONTENT, TODAY)
    assert outcome.action == "pull"
    assert list(api.branches) == ["submission/issue-77"]
    assert list(api.branches["submission/issue-77"]) == ["content/besoins/github-workflows-pwn.yaml"]
    assert api.commits[-1]["message"] == "Soumission du ticket #77"


# ------------------------------------------------------------------------------ units
def test_commune_by_name_postcode_code_and_ambiguity(geo):
    assert resolve_commune("Dijon", geo) == ("21231", None)
    assert resolve_commune("21000", geo) == ("21231", None)
    assert resolve_commune("21231", geo) == ("21231", None)
    assert resolve_commune("Dijon (21231)", geo) == ("21231", None)
    assert resolve_commune("Saint-Denis (93)", geo) == ("93066", None)
    assert resolve_commune("saint denis 93200", geo) == ("93066", None)
    code, error = resolve_commune("Saint-Denis", geo)
    assert code is None and "plusieurs communes" in error and "93066" in error
    code, error = resolve_commune("Dijonn", geo)
    assert code is None and "Dijon" in error
    code, error = resolve_commune("21300", geo)   # postcode of Chenôve and INSEE code of Gissey-sur-Ouche
    assert code is None and "Chenôve" in error and "Gissey-sur-Ouche" in error
    assert resolve_commune("Chenôve", geo) == ("21166", None)


@pytest.mark.parametrize("text, iso", [("31/03/2027", "2027-03-31"), ("1/4/2027", "2027-04-01"),
                                       ("2027-03-31", "2027-03-31"), ("31.03.2027", "2027-03-31")])
def test_dates(text, iso):
    assert intake.parse_date(text) == (iso, None)


@pytest.mark.parametrize("text", ["31/02/2027", "demain", "2027-13-01", "03/31/2027"])
def test_bad_dates_have_a_french_message(text):
    iso, error = intake.parse_date(text)
    assert iso is None and error.startswith("«")


def test_slugs():
    assert slugify("Café solidaire : des ordinateurs !") == "cafe-solidaire-des-ordinateurs"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("!!!") == ""
    assert unique_slug("", set(), "besoin-12") == "besoin-12"
    assert unique_slug("con", set(), "besoin-12") == "con-besoin-12"
    long = slugify("mot " * 60)
    assert len(long) <= 80 and not long.endswith("-")
    assert unique_slug("ordinateurs", {"Ordinateurs"}, "x") == "ordinateurs-2"
    assert unique_slug("asso", {"asso"}, "x", extra="dijon") == "asso-dijon"
    taken = {"a" * 80}
    assert len(unique_slug("a" * 80, taken, "x")) <= 80


def test_multiple_choice_labels_with_commas_are_read_back():
    f = FORMS["besoin"].field("org_nature")
    found, unknown = intake.match_vocabulary(f, "Structure de l'ESS (coopérative, SCIC, entreprise d'insertion…)")
    assert found == ["structure_ess"] and unknown == []
    f = FORMS["besoin"].field("thematiques")
    found, unknown = intake.match_vocabulary(f, "Égalité et lutte contre les discriminations, Sport, jardinage")
    assert found == ["egalite", "sport"] and unknown == ["jardinage"]


# ------------------------------------------------------------------------------ properties
@settings(max_examples=400, deadline=None)
@given(st.text())
@example("\x85")
@example("a\u2028b\u2029c")
@example("  lead\n\ttab\n\ntrailing  \n")
@example("NO")
@example("01234")
@example("- item")
@example("&a *a !!python/object")
@example("é\u0301")
def test_yaml_round_trip_through_the_strict_loader(text):
    assert load_yaml(dump_yaml({"k": text}))["k"] == unicodedata.normalize("NFC", text)
    clean = normalise(text)
    assert load_yaml(dump_yaml({"k": clean}))["k"] == clean
    line = normalise(text, single_line=True)
    assert load_yaml(dump_yaml({"k": line}))["k"] == line


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("\x85")
def test_normalised_text_has_no_controls(text):
    out = normalise(text)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]", out)
    assert out == unicodedata.normalize("NFC", out)
    assert "\n" not in normalise(text, single_line=True)


_FORM = FORMS["exemple"]
_TEXT_FIELDS = [f for f in _FORM.asked if f.type in ("input", "textarea") and f.id != "choix_du_site"]
_LABELS = [f.label for f in _FORM.asked]
_line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30).map(str.strip) \
    .filter(lambda s: s and s not in forms.EMPTY_ANSWERS and not s.startswith("#"))


@st.composite
def _answer(draw, f):
    """A textarea answer may contain ``### <label>`` lines of *other* questions."""
    if f.type == "input":
        return draw(_line)
    others = [label for label in _LABELS if label != f.label]
    parts = draw(st.lists(st.one_of(_line, st.sampled_from(others).map(lambda label: f"### {label}")), min_size=1,
                          max_size=6))
    if parts[0].startswith("###"):
        parts.insert(0, "texte")
    return "\n\n".join(parts)


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({f.id: _answer(f) for f in _TEXT_FIELDS}))
def test_parse_body_reads_back_what_github_writes(answers):
    parsed = parse_body(render_body(_FORM, answers).replace("\n", "\r\n"), _FORM)
    assert parsed.missing == []
    for field_id, value in answers.items():
        assert parsed.values[field_id] == value


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(forms.options(FORMS["besoin"].field("thematiques"))), min_size=1, max_size=5,
                unique=True))
def test_any_multiple_choice_is_read_back(labels):
    f = FORMS["besoin"].field("thematiques")
    values, unknown = intake.match_vocabulary(f, ", ".join(labels))
    assert unknown == [] and values == [forms.option_values(f)[label] for label in labels]


# ------------------------------------------------------------------------------ the bot and the API
class FakeGitHub:
    """In-memory stand-in for ``associe.github_api.GitHub`` (same methods, no network)."""

    def __init__(self, approved: bool = False, open_by_author: int = 0, fail_pull: bool = False):
        self.approved = approved
        self.open_by_author = open_by_author
        self.fail_pull = fail_pull
        self.branches: dict[str, dict] = {}
        self.branch_shas: dict[str, str] = {}
        self.commits: list[dict] = []
        self.pulls: list[dict] = []
        self.comments: dict[int, list[dict]] = {}
        self.labels: dict[int, set[str]] = {}

    # git data
    def branch_sha(self, branch):
        if branch == "main":
            return "a" * 40
        return self.branch_shas.get(branch)

    def commit_tree(self, sha):
        return "b" * 40

    def create_tree(self, base, files):
        self._tree = dict(files)
        return "c" * 40

    def create_commit(self, message, tree, parents):
        self.commits.append({"message": message, "files": self._tree})
        return f"{len(self.commits):040x}"

    def set_branch(self, branch, sha):
        self.branches[branch] = dict(self.commits[-1]["files"])
        self.branch_shas[branch] = sha

    # pulls
    def pulls_for_branch(self, branch):
        return [p for p in self.pulls if p["head"] == branch]

    def create_pull(self, title, head, base, body):
        if self.fail_pull:
            raise GitHubError(403, "GitHub Actions is not permitted to create or approve pull requests.")
        pull = {"number": 100 + len(self.pulls), "head": head, "title": title, "body": body, "state": "open"}
        self.pulls.append(pull)
        return pull

    def update_pull(self, number, title, body):
        pull = next(p for p in self.pulls if p["number"] == number)
        pull.update(title=title, body=body)

    def is_approved(self, number):
        return self.approved

    # issues
    def upsert_comment(self, number, marker, body):
        existing = [c for c in self.comments.setdefault(number, []) if marker in c["body"]]
        if existing:
            existing[0]["body"] = body
        else:
            self.comments[number].append({"body": body})

    def create_comment(self, number, body):
        self.comments.setdefault(number, []).append({"body": body})

    def add_labels(self, number, labels):
        self.labels.setdefault(number, set()).update(labels)

    def remove_label(self, number, label):
        self.labels.setdefault(number, set()).discard(label)

    def open_issues(self, creator=None, labels=None):
        return [{"number": 1000 + i} for i in range(self.open_by_author)]


def _event(case: str, action: str = "opened", **changes) -> dict:
    _, issue = load_case(case)
    issue.update(changes)
    return {"action": action, "issue": issue, "repository": {"default_branch": "main", "full_name": "o/r"}}


def test_one_branch_and_one_pull_per_issue_updated_on_edit(geo):
    api = FakeGitHub()
    first = run_intake(_event("besoin-organisation-existante"), api, geo, CONTENT, TODAY)
    edited = _event("besoin-organisation-existante", "edited", title="Une salle pour nos ateliers du mardi soir")
    second = run_intake(edited, api, geo, CONTENT, TODAY)
    third = run_intake(edited, api, geo, CONTENT, TODAY)
    assert first.action == second.action == third.action == "pull"
    assert len(api.pulls) == 1 and list(api.branches) == ["submission/issue-43"]
    assert list(api.branches["submission/issue-43"]) == ["content/besoins/une-salle-pour-nos-ateliers-du-mardi-soir.yaml"]
    assert api.pulls[0]["title"] == "[Besoin] Une salle pour nos ateliers du mardi soir"
    assert "Closes #43" in api.pulls[0]["body"] and "`région:27-bourgogne-franche-comte`" in api.pulls[0]["body"]
    assert len(api.comments[43]) == 1 and "#100" in api.comments[43][0]["body"]
    assert {"soumission", "besoin", "région:27-bourgogne-franche-comte"} <= api.labels[100]
    assert "proposition-ouverte" in api.labels[43]


def test_errors_are_one_comment_updated_on_edit(geo):
    api = FakeGitHub()
    run_intake(_event("erreurs-a-corriger"), api, geo, CONTENT, TODAY)
    run_intake(_event("erreurs-a-corriger", "edited"), api, geo, CONTENT, TODAY)
    assert api.pulls == [] and api.branches == {}
    assert len(api.comments[49]) == 1 and "corriger" in api.comments[49][0]["body"]
    assert "à-corriger" in api.labels[49]


def test_an_approved_pull_is_not_touched_by_an_edit(geo):
    api = FakeGitHub()
    run_intake(_event("besoin-organisation-existante"), api, geo, CONTENT, TODAY)
    api.approved = True
    commits = len(api.commits)
    outcome = run_intake(_event("besoin-organisation-existante", "edited", title="Autre titre pour la salle"), api, geo,
                         CONTENT, TODAY)
    assert outcome.action == "approved"
    assert len(api.commits) == commits and api.pulls[0]["title"].endswith("ateliers du soir")
    assert "après l'approbation" in api.comments[43][0]["body"]
    assert any("après l'approbation" in c["body"] for c in api.comments[100])


def test_a_closed_pull_is_never_reopened_by_the_bot(geo):
    api = FakeGitHub()
    run_intake(_event("besoin-organisation-existante"), api, geo, CONTENT, TODAY)
    api.pulls[0]["state"] = "closed"
    outcome = run_intake(_event("besoin-organisation-existante", "edited"), api, geo, CONTENT, TODAY)
    assert outcome.action == "closed-pull" and len(api.pulls) == 1


def test_rate_limit_per_author(geo):
    api = FakeGitHub(open_by_author=3)
    outcome = run_intake(_event("besoin-organisation-existante"), api, geo, CONTENT, TODAY)
    assert outcome.action == "rate-limited" and api.pulls == [] and "en-attente" in api.labels[43]
    trusted = _event("besoin-organisation-existante")
    trusted["issue"]["author_association"] = "MEMBER"
    assert run_intake(trusted, api, geo, CONTENT, TODAY).action == "pull"


def test_a_refused_pull_request_is_reported_not_silent(geo):
    api = FakeGitHub(fail_pull=True)
    with pytest.raises(SystemExit, match="création de la proposition impossible"):
        run_intake(_event("besoin-organisation-existante"), api, geo, CONTENT, TODAY)
    assert "Les mainteneurs sont prévenus" in api.comments[43][0]["body"]
    assert "intervention-mainteneur" in api.labels[43]


def test_default_token_pull_says_how_to_start_the_checks(geo):
    api = FakeGitHub()
    run_intake(_event("besoin-organisation-existante"), api, geo, CONTENT, TODAY, token_kind="github")
    assert "fermant puis rouvrant" in api.pulls[0]["body"]
    api2 = FakeGitHub()
    run_intake(_event("besoin-organisation-existante"), api2, geo, CONTENT, TODAY, token_kind="app")
    assert "fermant puis rouvrant" not in api2.pulls[0]["body"]


def test_ignored_events(geo):
    api = FakeGitHub()
    assert run_intake(_event("besoin-organisation-existante", "labeled"), api, geo, CONTENT, TODAY).action == "skipped"
    assert run_intake(_event("besoin-organisation-existante", state="closed"), api, geo, CONTENT, TODAY).action == "skipped"
    pr_like = _event("besoin-organisation-existante", pull_request={"url": "x"})
    assert run_intake(pr_like, api, geo, CONTENT, TODAY).action == "skipped"
    other = _event("besoin-organisation-existante", labels=[], body="Bonjour, une question sur le site.")
    assert run_intake(other, api, geo, CONTENT, TODAY).action == "skipped"
    assert api.comments == {} and api.pulls == []


def test_comments_cannot_mention_or_link(geo):
    assert intake.md("@everyone [clic](https://x) #12 <img src=x>") == \
        "@\u200deveryone \\[clic\\](https://x) \\#12 \\<img src=x\\>"


class _Response:
    def __init__(self, body: bytes):
        self.body = body

    def read(self):
        return self.body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_api_client_sends_the_token_and_retries_a_rate_limit_once():
    import io
    import urllib.error
    from email.message import Message

    seen, slept = [], []

    def opener(request, timeout):
        seen.append(request)
        if len(seen) == 1:
            headers = Message()
            headers["Retry-After"] = "2"
            raise urllib.error.HTTPError(request.full_url, 429, "slow down", headers, io.BytesIO(b'{"message": "x"}'))
        return _Response(b'{"ok": true}')

    api = GitHub("o/r", "secret-token", opener=opener, sleep=slept.append)
    assert api.request("GET", "/repos/o/r") == {"ok": True}
    assert slept == [2.0] and len(seen) == 2
    assert seen[0].get_header("Authorization") == "Bearer secret-token"
    assert "secret-token" not in repr(api)


def test_api_client_refuses_unsafe_names():
    api = GitHub("o/r", "t", opener=lambda *a, **k: _Response(b"{}"))
    for bad in ("../main", "-x", "a b", "refs/../x"):
        with pytest.raises(ValueError):
            api.set_branch(bad, "a" * 40)
    with pytest.raises(ValueError):
        api.create_tree("b" * 40, {"../.github/workflows/x.yml": "x"})
    with pytest.raises(ValueError):
        GitHub("o/r; rm -rf /", "t")


def test_only_bot_comments_are_edited():
    calls = []

    class Api(GitHub):
        def comments(self, number):
            return [{"id": 1, "body": "<!-- associe-intake --> copié", "user": {"type": "User"}},
                    {"id": 2, "body": "<!-- associe-intake --> ancien", "user": {"type": "Bot"}}]

        def update_comment(self, comment_id, body):
            calls.append(comment_id)

        def create_comment(self, number, body):
            calls.append("new")

    Api("o/r", "t").upsert_comment(5, "<!-- associe-intake -->", "nouveau")
    assert calls == [2]


def test_event_file_command_dry_run(tmp_path, capsys):
    import json

    from associe.cli import main

    _, issue = load_case("besoin-organisation-existante")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "issue": issue}), encoding="utf-8")
    assert main(["intake", "--event", str(event), "--dry-run", "--content", str(CONTENT), "--date", TODAY.isoformat(),
                 "--output", str(tmp_path / "out")]) == 0
    assert "décision : pull" in capsys.readouterr().out
    assert (tmp_path / "out" / "content" / "besoins" / "une-salle-pour-nos-ateliers-du-soir.yaml").is_file()


def test_pull_body_lists_the_suggestions_the_entry_would_create(geo, tmp_path):
    import shutil

    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    for path in content.rglob("*.yaml"):   # real entries are never matched with demonstration ones
        path.write_text(path.read_text(encoding="utf-8").replace("fictif: true\n", ""), encoding="utf-8")
    _, issue = load_case("besoin-organisation-existante")
    answers = parse_body(issue["body"], FORMS["besoin"]).values
    answers.update(type_de_soutien="Don de matériel", objet="Matériel informatique et numérique",
                   description="Des ordinateurs portables pour nos ateliers d'initiation au numérique.")
    issue["body"] = render_body(FORMS["besoin"], {k: v for k, v in answers.items() if v is not None and k != "engagements"}
                                | {"engagements": list(FORMS["besoin"].field("engagements").options)})
    outcome = process_issue(issue, geo, content, TODAY)
    assert outcome.action == "pull", outcome.comment
    lines = intake.suggestions(outcome.submission, geo, content, TODAY)
    assert lines and "Vingt ordinateurs portables reconditionnables" in lines[0]
    body = intake.render_pull_body(outcome.submission, "x", geo, lines)
    assert "### Mises en relation que cette annonce créerait" in body and "Chenôve Informatique Services" in body
