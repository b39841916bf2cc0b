"""Security and shape of the GitHub Actions workflows, and the scripts they run.

* ``zizmor --offline .github/`` finds nothing (template injection, dangerous triggers,
  unpinned actions, credentials left by checkout, excessive permissions…);
* policy checks that zizmor does not make: ``permissions: {}`` at the top and an allow-list
  per job, every action pinned to a full SHA with its version in a comment, no
  ``pull_request_target``, ``workflow_run`` only in the comment workflow (which never checks
  out the pull request), no cache in the intake and deploy workflows, no ``${{ … }}`` inside
  a ``run:`` line, no automatic merge anywhere;
* the comment rendered from a pull request's artifact is inert; the weekly link check and
  expiry sweep (``associe.links``) against a local HTTP server and a scratch directory.
"""
from __future__ import annotations

import datetime as dt
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from associe import github_api, links

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github"
WORKFLOWS = {p.name: p for p in sorted((GITHUB / "workflows").glob("*.yml"))}
SHA_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")

#: job -> the only permissions it may have (the least that works)
ALLOWED = {
    ("intake.yml", "intake"): {"contents": "write", "pull-requests": "write", "issues": "write"},
    ("pr.yml", "validate"): {"contents": "read"},
    ("pr.yml", "build"): {"contents": "read"},
    ("pr-comment.yml", "comment"): {"actions": "read", "pull-requests": "write"},
    ("deploy.yml", "build"): {"contents": "read", "pages": "read"},
    ("deploy.yml", "deploy"): {"pages": "write", "id-token": "write"},
    ("maintenance.yml", "expired"): {"contents": "write", "pull-requests": "write"},
    ("maintenance.yml", "links"): {"contents": "read", "issues": "write"},
}


def load(name: str) -> dict:
    # PyYAML reads the key `on:` as the boolean True (YAML 1.1): normalise it back
    data = yaml.safe_load(WORKFLOWS[name].read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(name: str):
    for job_id, job in load(name)["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


# ------------------------------------------------------------------------------ zizmor
def test_zizmor_finds_nothing():
    exe = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    if not Path(exe).exists():
        pytest.fail("zizmor manque : pip install zizmor (extra « test » du projet)")
    result = subprocess.run([exe, "--offline", "--no-progress", "--strict-collection", str(GITHUB)], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_catches_the_mistakes_this_policy_is_about(tmp_path):
    """The linter really runs: a deliberately bad workflow fails."""
    exe = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: issues\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - uses: actions/checkout@v4\n"
                   "      - run: echo \"${{ github.event.issue.title }}\"\n", encoding="utf-8")
    result = subprocess.run([exe, "--offline", "--no-progress", str(tmp_path / ".github")], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0
    assert "template-injection" in result.stdout and "unpinned-uses" in result.stdout


# ------------------------------------------------------------------------------ policy
def test_the_expected_workflows_exist():
    assert set(WORKFLOWS) == {"intake.yml", "pr.yml", "pr-comment.yml", "deploy.yml", "maintenance.yml"}


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_no_permission_by_default_and_least_per_job(name):
    data = load(name)
    assert data.get("permissions") == {}, f"{name} : « permissions: {{}} » en tête"
    for job_id, job in data["jobs"].items():
        assert (name, job_id) in ALLOWED, f"{name}:{job_id} n'a pas de liste de permissions autorisées"
        assert job.get("permissions") == ALLOWED[(name, job_id)], f"{name}:{job_id}"


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_action_is_pinned_to_a_full_sha_with_its_version(name):
    text = WORKFLOWS[name].read_text(encoding="utf-8")
    for job_id, step in steps(name):
        if "uses" in step:
            assert SHA_USES.match(step["uses"]), f"{name}:{job_id} : {step['uses']}"
            line = next(line for line in text.splitlines() if step["uses"] in line)
            assert re.search(r"#\s*v\d+(\.\d+)*\s*$", line), f"commentaire de version manquant : {line.strip()}"


def test_no_pull_request_target_and_workflow_run_only_for_the_comment():
    for name in WORKFLOWS:
        on = load(name)["on"]
        assert "pull_request_target" not in on, name
        assert "workflow_run" not in on or name == "pr-comment.yml", name
    comment = load("pr-comment.yml")
    for job_id, step in steps("pr-comment.yml"):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert "ref" not in step.get("with", {}) and "repository" not in step.get("with", {})
    job = comment["jobs"]["comment"]
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
    download = next(s for _, s in steps("pr-comment.yml") if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"]["path"].startswith("${{ runner.temp }}")


@pytest.mark.parametrize("name", ["intake.yml", "deploy.yml", "maintenance.yml", "pr-comment.yml"])
def test_no_cache_where_a_poisoned_cache_would_matter(name):
    for job_id, step in steps(name):
        uses = step.get("uses", "")
        assert not uses.startswith("actions/cache"), f"{name}:{job_id}"
        assert "cache" not in step.get("with", {}), f"{name}:{job_id} : {uses}"
        assert "--no-cache-dir" in step.get("run", "--no-cache-dir") or "pip install" not in step.get("run", "")


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_no_expression_inside_a_run_line(name):
    """Untrusted text reaches commands only through environment variables (or the event file)."""
    for job_id, step in steps(name):
        for key in ("run", "script"):
            code = step.get(key) or step.get("with", {}).get(key) or ""
            assert "${{" not in code, f"{name}:{job_id} : expression dans « {key} » : {code}"
    raw = WORKFLOWS[name].read_text(encoding="utf-8")
    for pattern in (r"run:.*\$\{\{\s*github\.event\.(issue|comment)", r"run:.*\$\{\{\s*steps\.[^}]*outputs"):
        assert not re.search(pattern, raw)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_checkout_never_keeps_the_token(name):
    for job_id, step in steps(name):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{name}:{job_id}"


def test_nothing_merges_or_approves_automatically():
    texts = [p.read_text(encoding="utf-8") for p in WORKFLOWS.values()]
    texts.append((ROOT / "plugins" / "associe" / "github_api.py").read_text(encoding="utf-8"))
    texts.append((ROOT / "plugins" / "associe" / "intake.py").read_text(encoding="utf-8"))
    for text in texts:
        for forbidden in ("gh pr merge", "enable-automerge", "automerge", "auto-approve", "/merge\"", "/merge'",
                          "mergePullRequest", '"event": "APPROVE"', "merge_method"):
            assert forbidden not in text, forbidden


def test_intake_reads_the_issue_from_the_event_file_only():
    data = load("intake.yml")
    assert data["on"] == {"issues": {"types": ["opened", "edited", "reopened"]}}
    assert data["concurrency"]["group"] == "intake-${{ github.event.issue.number }}"
    run = [s for _, s in steps("intake.yml") if "run" in s][-1]
    assert run["run"] == 'python -m associe.cli intake --event "$GITHUB_EVENT_PATH"'
    assert set(run["env"]) == {"PYTHONPATH", "GITHUB_TOKEN", "ASSOCIE_TOKEN_KIND"}
    token = next(s for _, s in steps("intake.yml") if s.get("uses", "").startswith("actions/create-github-app-token@"))
    assert token["if"] == "env.APP_CONFIGURED == 'true'" and token["with"]["app-id"] == "${{ secrets.APP_ID }}"
    assert "github.token" in run["env"]["GITHUB_TOKEN"]   # documented fallback


def test_pull_request_checks_and_artifacts():
    data = load("pr.yml")
    assert list(data["on"]) == ["pull_request"]
    runs = " ".join(s.get("run", "") for _, s in steps("pr.yml"))
    assert "associe check --format github" in runs and "associe build" in runs and "associe duplicates" in runs
    uploads = [s for _, s in steps("pr.yml") if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert {u["with"]["name"] for u in uploads} == {"verification-validate", "verification-build"}
    assert all(u.get("if") == "always()" for u in uploads)
    comment = load("pr-comment.yml")
    assert comment["on"]["workflow_run"]["workflows"] == [data["name"]]


def test_deploy_is_one_at_a_time_and_uses_the_official_pages_actions():
    data = load("deploy.yml")
    assert data["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    assert set(data["on"]) == {"push", "schedule", "workflow_dispatch"}
    assert data["on"]["push"] == {"branches": ["main"]}
    uses = [s["uses"].split("@")[0] for _, s in steps("deploy.yml") if "uses" in s]
    assert {"actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages"} <= set(uses)
    assert data["jobs"]["deploy"]["environment"]["name"] == "github-pages"
    assert any("associe build" in s.get("run", "") for _, s in steps("deploy.yml"))


def test_maintenance_reports_links_without_blocking():
    data = load("maintenance.yml")
    assert "schedule" in data["on"] and "workflow_dispatch" in data["on"]
    runs = " ".join(s.get("run", "") for _, s in steps("maintenance.yml"))
    assert "associe.links check" in runs and "associe.links expired" in runs and "upsert-issue" in runs


def test_dependabot_keeps_the_actions_pinned():
    config = yaml.safe_load((GITHUB / "dependabot.yml").read_text(encoding="utf-8"))
    assert any(u["package-ecosystem"] == "github-actions" for u in config["updates"])


def test_review_files_exist():
    template = (GITHUB / "pull_request_template.md").read_text(encoding="utf-8")
    assert "- [ ]" in template and "donnée" in template.lower()
    owners = (GITHUB / "CODEOWNERS").read_text(encoding="utf-8")
    assert "/.github/" in owners and "région" in owners


# ------------------------------------------------------------------------------ PR comment
def test_pr_comment_is_inert_whatever_the_artifact_says():
    evil = {"problems": [{"file": "content/besoins/x.yaml", "line": 3, "field": "titre", "severity": "erreur",
                          "message": "```\n@maintainers [clic](https://evil.example) ![i](https://evil.example/i.png)"}],
            "duplicates": [], "build_ok": True, "pr_number": 1}
    body = github_api.render_pr_comment(evil)
    fences = re.findall(r"^(`{3,})text$", body, flags=re.M)
    assert fences and all(len(f) >= 4 for f in fences)   # longer than the ``` inside
    inside = body.split(fences[0] + "text\n", 1)[1].split("\n" + fences[0], 1)[0]
    assert "@maintainers" in inside and "evil.example" in inside
    outside = body.replace(inside, "")
    assert "@" not in outside.replace("<!-- associe-verification -->", "") and "evil" not in outside
    assert body.startswith(github_api.PR_MARKER)


def test_pr_comment_finds_the_pull_by_commit_not_by_artifact(tmp_path):
    (tmp_path / "problems.json").write_text(json.dumps([]), encoding="utf-8")
    (tmp_path / "duplicates.json").write_text(json.dumps([]), encoding="utf-8")
    (tmp_path / "build.json").write_text(json.dumps({"ok": True}), encoding="utf-8")
    results = github_api.read_results(tmp_path)
    assert results == {"problems": [], "duplicates": [], "build_ok": True}

    class Api:
        posted = []

        def open_pulls_for_sha(self, sha):
            return [{"number": 12}] if sha == "f" * 40 else []

        def upsert_comment(self, number, marker, body):
            self.posted.append((number, marker))

    assert github_api.post_pr_comment(Api(), {**results, "pr_number": 999}, "f" * 40) == 12
    assert Api.posted == [(12, github_api.PR_MARKER)]
    assert github_api.post_pr_comment(Api(), results, "e" * 40) is None


def test_pr_results_refuse_symlinks_and_huge_files(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text("[]", encoding="utf-8")
    folder = tmp_path / "art"
    folder.mkdir()
    (folder / "problems.json").symlink_to(secret)
    (folder / "duplicates.json").write_text("[" + "0," * 600_000 + "0]", encoding="utf-8")
    results = github_api.read_results(folder)
    assert results["problems"] == [] and results["duplicates"] == [] and results["build_ok"] is False


# ------------------------------------------------------------------------------ links and expiry
class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._answer(head=True)

    def do_GET(self):
        self._answer(head=False)

    def _answer(self, head: bool):
        port = self.server.server_address[1]
        routes = {
            "/ok": (200, {}), "/gone": (410, {}), "/missing": (404, {}), "/busy": (429, {}),
            "/same": (301, {"Location": "/ok"}),
            "/elsewhere": (301, {"Location": f"http://localhost:{port}/ok"}),
            "/head-refused": (405, {}) if head else (200, {}),
        }
        if self.path == "/slow":
            time.sleep(2)
            status, headers = 200, {}
        else:
            status, headers = routes.get(self.path, (404, {}))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def local_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("path, status", [("/ok", links.OK), ("/same", links.OK), ("/head-refused", links.OK),
                                          ("/gone", links.BROKEN), ("/missing", links.BROKEN),
                                          ("/busy", links.CHECK), ("/elsewhere", links.MOVED), ("/slow", links.CHECK)])
def test_link_statuses(local_server, path, status):
    assert links.check_url(local_server + path, timeout=1, allow_private=True).status == status


def test_local_addresses_are_never_requested_by_default(local_server):
    result = links.check_url(local_server + "/ok", timeout=1)
    assert result.status == links.CHECK and "privée" in result.detail


def test_link_report_is_short_enough_for_an_issue():
    uses = [links.LinkUse(f"content/organisations/o{i}.yaml", "site_web", f"https://x{i}.example/") for i in range(3000)]
    results = {u.url: links.LinkResult(u.url, links.BROKEN, "page introuvable (404)") for u in uses}
    report = links.link_report(uses, results, dt.date(2026, 11, 23))
    assert len(report) < 65_536 and "tronqué" in report and "3000 adresse(s)" in report


def _write(path: Path, data: dict) -> None:
    from associe.intake import dump_yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_yaml(data), encoding="utf-8")


def test_expired_entries_are_deleted_unless_an_example_cites_them(tmp_path):
    content = tmp_path / "content"
    _write(content / "organisations" / "asso.yaml", {"identifiant": "asso"})
    _write(content / "organisations" / "seule.yaml", {"identifiant": "seule"})
    _write(content / "besoins" / "vieux.yaml", {"titre": "Vieux", "organisation": "asso", "valable_jusqu_au": "2026-01-31"})
    _write(content / "besoins" / "cite.yaml", {"titre": "Cité", "organisation": "asso", "valable_jusqu_au": "2026-01-31"})
    _write(content / "offres" / "recent.yaml", {"titre": "Récent", "organisation": "seule", "valable_jusqu_au": "2026-10-01"})
    _write(content / "exemples" / "ex.yaml", {"besoin": "cite"})
    delete, keep, orphans = links.expired_entries(content, dt.date(2026, 11, 23), 90, tmp_path)
    assert [e.path for e in delete] == ["content/besoins/vieux.yaml"]
    assert [e.path for e in keep] == ["content/besoins/cite.yaml"]
    assert orphans == []
    changes, report = tmp_path / "changes.json", tmp_path / "report.md"
    assert links.main(["expired", "--content", str(content), "--changes", str(changes), "--report", str(report),
                       "--date", "2026-11-23"]) == 0
    assert json.loads(changes.read_text()) == {"content/besoins/vieux.yaml": None}
    assert "cite.yaml" in report.read_text(encoding="utf-8")


def test_build_jobs_install_from_the_hash_locked_file():
    """Deploy and PR builds install exactly the locked, hash-checked packages (no drift, no tampering)."""
    import tomllib

    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {m.group(1).lower() for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock, re.M)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
        assert name in pinned, f"{name} missing from requirements.lock: run pip-compile (see CONTRIBUTING.md)"
    assert "setuptools" in pinned  # the editable install builds without fetching anything unhashed
    for block in re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock):
        if re.match(r"[A-Za-z0-9_.-]+==", block):
            assert "--hash=sha256:" in block, block.splitlines()[0]
    for name in ("deploy.yml", "pr.yml"):
        text = (ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8")
        assert "--require-hashes -r requirements.lock" in text, name
        assert re.search(r"pip install[^\n]*--no-deps[^\n]*-e \.", text), name
