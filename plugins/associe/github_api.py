"""The few GitHub REST calls the bots make, with urllib and the token from the environment.

Standard library only (no ``yaml``, no ``jsonschema``): the PR-comment workflow runs
``python -m associe.github_api pr-comment`` from a sparse checkout without installing
anything. Nothing here ever runs a shell or interpolates text into one.

* ``GitHub`` — a minimal client: issues, comments, labels, git data (blobs are sent inline in
  trees), pull requests and reviews. The token comes from ``GITHUB_TOKEN`` (a GitHub App
  installation token when the repository is set up for it, else the workflow's default
  token); the API address from ``GITHUB_API_URL`` (GitHub Enterprise) or api.github.com.
* ``commit_files`` — one commit on top of the default branch, written to a bot branch that
  is force-updated: the branch always holds exactly the generated files, never a pile of
  commits, and re-running is idempotent.
* command line: ``pr-comment`` (one comment per pull request from the validation artifact),
  ``maintenance-pr`` (the weekly archive pull request) and ``upsert-issue`` (the link
  report), used by the workflows in ``.github/workflows``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterable

REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
BRANCH_RE = re.compile(r"^[a-z0-9][a-z0-9/_-]{0,100}$")
USER_AGENT = "associe-bot (+https://github.com/)"
MAX_COMMENT_CHARS = 60_000   # GitHub refuses bodies over 65,536 characters


class GitHubError(Exception):
    def __init__(self, status: int, message: str, path: str = ""):
        self.status = status
        self.path = path
        super().__init__(f"GitHub {status} sur {path} : {message}")


class GitHub:
    """Minimal REST client. ``opener`` is ``urllib.request.urlopen``-compatible (tests pass a fake)."""

    def __init__(self, repo: str, token: str, api_url: str | None = None,
                 opener: Callable[..., Any] | None = None, sleep: Callable[[float], None] = time.sleep):
        if not REPO_RE.match(repo or ""):
            raise ValueError(f"dépôt invalide : {repo!r} (attendu « propriétaire/nom »)")
        if not token:
            raise ValueError("aucun jeton : la variable d'environnement GITHUB_TOKEN est vide")
        self.repo = repo
        self.owner = repo.split("/")[0]
        self._token = token
        self.api_url = (api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
        self._open = opener or urllib.request.urlopen
        self._sleep = sleep

    def __repr__(self) -> str:  # never show the token
        return f"<GitHub {self.repo}>"

    # ------------------------------------------------------------------ transport
    def request(self, method: str, path: str, payload: Any = None, query: dict | None = None,
                allow: Iterable[int] = ()) -> Any:
        url = self.api_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        for attempt in range(2):
            req = urllib.request.Request(url, data=data, method=method, headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self._token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": USER_AGENT,
                **({"Content-Type": "application/json"} if data is not None else {}),
            })
            try:
                with self._open(req, timeout=30) as response:
                    body = response.read()
                    return json.loads(body) if body else None
            except urllib.error.HTTPError as error:
                status = error.code
                if status in allow:
                    return None
                text = error.read().decode("utf-8", "replace")[:500]
                retry = _retry_after(error.headers, text) if status in (403, 429) else None
                if retry is not None and attempt == 0:
                    self._sleep(retry)
                    continue
                raise GitHubError(status, _message(text), path) from None
        raise GitHubError(429, "limite de requêtes atteinte", path)

    def paginate(self, path: str, query: dict | None = None, limit: int = 1000) -> list:
        items: list = []
        page = 1
        while len(items) < limit:
            batch = self.request("GET", path, query={**(query or {}), "per_page": 100, "page": page}) or []
            items.extend(batch)
            if len(batch) < 100:
                break
            page += 1
        return items[:limit]

    # ------------------------------------------------------------------ issues and comments
    def issue(self, number: int) -> dict:
        return self.request("GET", f"/repos/{self.repo}/issues/{int(number)}")

    def comments(self, number: int) -> list[dict]:
        return self.paginate(f"/repos/{self.repo}/issues/{int(number)}/comments")

    def create_comment(self, number: int, body: str) -> dict:
        return self.request("POST", f"/repos/{self.repo}/issues/{int(number)}/comments", {"body": _clip(body)})

    def update_comment(self, comment_id: int, body: str) -> dict:
        return self.request("PATCH", f"/repos/{self.repo}/issues/comments/{int(comment_id)}", {"body": _clip(body)})

    def upsert_comment(self, number: int, marker: str, body: str) -> dict:
        """Create the bot's comment carrying ``marker``, or edit it: one comment per thread.

        Only comments written by a bot account are considered, so a person cannot make the
        bot edit their comment by pasting the marker."""
        for comment in self.comments(number):
            if marker in (comment.get("body") or "") and (comment.get("user") or {}).get("type") == "Bot":
                if comment.get("body") == _clip(body):
                    return comment
                return self.update_comment(comment["id"], body)
        return self.create_comment(number, body)

    def add_labels(self, number: int, labels: Iterable[str]) -> None:
        labels = [label for label in labels if label]
        if labels:
            self.request("POST", f"/repos/{self.repo}/issues/{int(number)}/labels", {"labels": labels})

    def remove_label(self, number: int, label: str) -> None:
        self.request("DELETE", f"/repos/{self.repo}/issues/{int(number)}/labels/{urllib.parse.quote(label, safe='')}",
                     allow=(404,))

    def open_issues(self, creator: str | None = None, labels: str | None = None) -> list[dict]:
        query = {"state": "open"}
        if creator:
            query["creator"] = creator
        if labels:
            query["labels"] = labels
        return [i for i in self.paginate(f"/repos/{self.repo}/issues", query) if "pull_request" not in i]

    def create_issue(self, title: str, body: str, labels: Iterable[str] = ()) -> dict:
        return self.request("POST", f"/repos/{self.repo}/issues",
                            {"title": title, "body": _clip(body), "labels": list(labels)})

    def update_issue(self, number: int, **fields: Any) -> dict:
        if "body" in fields:
            fields["body"] = _clip(fields["body"])
        return self.request("PATCH", f"/repos/{self.repo}/issues/{int(number)}", fields)

    # ------------------------------------------------------------------ git data
    def branch_sha(self, branch: str) -> str | None:
        ref = self.request("GET", f"/repos/{self.repo}/git/ref/heads/{_branch(branch)}", allow=(404,))
        return ref["object"]["sha"] if ref else None

    def commit_tree(self, commit_sha: str) -> str:
        return self.request("GET", f"/repos/{self.repo}/git/commits/{_sha(commit_sha)}")["tree"]["sha"]

    def create_tree(self, base_tree: str, files: dict[str, str | None]) -> str:
        tree = []
        for path, content in sorted(files.items()):
            entry: dict[str, Any] = {"path": _path(path), "mode": "100644", "type": "blob"}
            if content is None:
                entry["sha"] = None           # deletes the file
            else:
                entry["content"] = content
            tree.append(entry)
        return self.request("POST", f"/repos/{self.repo}/git/trees", {"base_tree": _sha(base_tree), "tree": tree})["sha"]

    def create_commit(self, message: str, tree: str, parents: list[str]) -> str:
        return self.request("POST", f"/repos/{self.repo}/git/commits",
                            {"message": message, "tree": _sha(tree), "parents": [_sha(p) for p in parents]})["sha"]

    def set_branch(self, branch: str, sha: str) -> None:
        if self.branch_sha(branch) is None:
            self.request("POST", f"/repos/{self.repo}/git/refs", {"ref": f"refs/heads/{_branch(branch)}", "sha": _sha(sha)})
        else:
            self.request("PATCH", f"/repos/{self.repo}/git/refs/heads/{_branch(branch)}", {"sha": _sha(sha), "force": True})

    # ------------------------------------------------------------------ pull requests
    def pulls_for_branch(self, branch: str) -> list[dict]:
        """Every pull request (open or closed) whose head is ``branch`` of this repository."""
        return self.paginate(f"/repos/{self.repo}/pulls",
                             {"head": f"{self.owner}:{_branch(branch)}", "state": "all"}, limit=100)

    def create_pull(self, title: str, head: str, base: str, body: str) -> dict:
        return self.request("POST", f"/repos/{self.repo}/pulls", {
            "title": title, "head": _branch(head), "base": base, "body": _clip(body), "maintainer_can_modify": True})

    def update_pull(self, number: int, title: str, body: str) -> dict:
        return self.request("PATCH", f"/repos/{self.repo}/pulls/{int(number)}", {"title": title, "body": _clip(body)})

    def is_approved(self, number: int) -> bool:
        """True when a reviewer's latest review of the pull request is an approval."""
        latest: dict[str, str] = {}
        for review in self.paginate(f"/repos/{self.repo}/pulls/{int(number)}/reviews"):
            state = review.get("state")
            if state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[(review.get("user") or {}).get("login", "")] = state
        return "APPROVED" in latest.values()

    def open_pulls_for_sha(self, sha: str) -> list[dict]:
        """Open pull requests whose head commit is ``sha`` (fork pull requests included)."""
        return [p for p in self.paginate(f"/repos/{self.repo}/pulls", {"state": "open"}, limit=1000)
                if (p.get("head") or {}).get("sha") == sha]


# ---------------------------------------------------------------------- helpers
def _retry_after(headers, text: str) -> float | None:
    """Seconds to wait for a rate-limited request (at most 60), None if it is not one."""
    value = headers.get("Retry-After") if headers else None
    if value and value.isdigit():
        return min(60.0, float(value))
    if headers and headers.get("X-RateLimit-Remaining") == "0":
        reset = headers.get("X-RateLimit-Reset")
        if reset and reset.isdigit():
            return max(1.0, min(60.0, float(reset) - time.time()))
    if "rate limit" in text.lower():
        return 60.0
    return None


def _message(text: str) -> str:
    try:
        return json.loads(text).get("message", text)
    except (ValueError, AttributeError):
        return text


def _clip(body: str) -> str:
    if len(body) <= MAX_COMMENT_CHARS:
        return body
    return body[: MAX_COMMENT_CHARS - 80] + "\n\n… (texte tronqué : trop long pour GitHub)\n"


def _branch(branch: str) -> str:
    if not BRANCH_RE.match(branch) or ".." in branch:
        raise ValueError(f"nom de branche refusé : {branch!r}")
    return branch


def _sha(sha: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{40}", sha or ""):
        raise ValueError(f"SHA invalide : {sha!r}")
    return sha


def _path(path: str) -> str:
    if path.startswith("/") or ".." in path.split("/") or not re.fullmatch(r"[A-Za-z0-9._/-]+", path):
        raise ValueError(f"chemin refusé : {path!r}")
    return path


def commit_files(api: GitHub, branch: str, base_branch: str, files: dict[str, str | None], message: str) -> str:
    """Point ``branch`` at one new commit on top of ``base_branch`` holding ``files``
    (``None`` deletes). Returns the commit SHA. Re-running replaces the branch's commit."""
    base_sha = api.branch_sha(base_branch)
    if base_sha is None:
        raise GitHubError(404, f"branche de base introuvable : {base_branch}")
    tree = api.create_tree(api.commit_tree(base_sha), files)
    commit = api.create_commit(message, tree, [base_sha])
    api.set_branch(branch, commit)
    return commit


def upsert_pull(api: GitHub, branch: str, base: str, title: str, body: str) -> tuple[dict, bool]:
    """The open pull request of ``branch``, updated, or a new one: (pull, created)."""
    for pull in api.pulls_for_branch(branch):
        if pull.get("state") == "open":
            api.update_pull(pull["number"], title, body)
            return pull, False
    return api.create_pull(title, branch, base, body), True


def from_environment(repo: str | None = None) -> GitHub:
    return GitHub(repo or os.environ.get("GITHUB_REPOSITORY", ""), os.environ.get("GITHUB_TOKEN", ""))


# ---------------------------------------------------------------------- PR comment (workflow_run)
PR_MARKER = "<!-- associe-verification -->"
MAX_RESULT_BYTES = 1_000_000


def _fence(text: str) -> str:
    """``text`` in a code block that no backtick run inside it can close: nothing in it is
    rendered (no links, no images, no @mentions), whatever the pull request's code wrote."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def render_pr_comment(results: dict) -> str:
    """The single validation comment of a pull request, from the artifact written by pr.yml.

    The artifact was produced by the pull request's own code, so it is data, never trusted:
    counts are integers, every text goes inside a code block, sizes are capped."""
    problems = results.get("problems") if isinstance(results.get("problems"), list) else []
    duplicates = results.get("duplicates") if isinstance(results.get("duplicates"), list) else []
    build_ok = results.get("build_ok") is True

    def lines(items: list) -> list[str]:
        out = []
        for item in items[:200]:
            if isinstance(item, dict):
                where = str(item.get("file", ""))[:200]
                line = item.get("line") if isinstance(item.get("line"), int) else 0
                fld = str(item.get("field", ""))[:100]
                msg = str(item.get("message", ""))[:1000]
                out.append(f"{where}:{line}: {fld + ' : ' if fld else ''}{msg}".replace("\r", " "))
        return out

    errors = [p for p in problems if isinstance(p, dict) and p.get("severity", "erreur") == "erreur"]
    warnings = [p for p in problems if isinstance(p, dict) and p.get("severity", "erreur") != "erreur"]
    parts = [PR_MARKER, "## Vérification automatique", ""]
    if not errors and build_ok:
        parts.append("✅ Les fichiers sont valides et le site se construit.")
    if errors:
        parts += [f"❌ **{len(errors)} erreur(s) à corriger** (elles sont aussi signalées sur les lignes des fichiers, "
                  "onglet « Files changed ») :", "", _fence("\n".join(lines(errors)))]
    if not build_ok:
        parts += ["", "❌ **La construction du site a échoué** : voir le journal de la vérification « build »."]
    if warnings:
        parts += ["", f"⚠️ {len(warnings)} avertissement(s) :", "", _fence("\n".join(lines(warnings)))]
    if duplicates:
        parts += ["", f"🔁 **Doublons possibles** ({len(duplicates)}) : vérifiez qu'il ne s'agit pas d'une entrée déjà publiée.",
                  "", _fence("\n".join(lines(duplicates)))]
    parts += ["", "_Ce commentaire est mis à jour à chaque nouvelle version de la proposition._"]
    return "\n".join(parts)


def _read_json(path: Path) -> Any:
    """A JSON file of the artifact, or None when absent, a symbolic link, too big or invalid."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_RESULT_BYTES:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_results(folder: Path) -> dict:
    """The validation artifact written by pr.yml: ``problems.json`` and ``duplicates.json``
    (``associe check/duplicates --format json``) and ``build.json`` (``{"ok": true}``)."""
    folder = Path(folder)
    problems = _read_json(folder / "problems.json")
    duplicates = _read_json(folder / "duplicates.json")
    build = _read_json(folder / "build.json")
    return {"problems": problems if isinstance(problems, list) else [],
            "duplicates": duplicates if isinstance(duplicates, list) else [],
            "build_ok": isinstance(build, dict) and build.get("ok") is True}


def post_pr_comment(api: GitHub, results: dict, head_sha: str) -> int | None:
    """Comment on the open pull request whose head is ``head_sha``. The number written in
    the artifact is ignored: the pull request is found from the triggering run's commit."""
    pulls = api.open_pulls_for_sha(_sha(head_sha))
    if not pulls:
        return None
    number = pulls[0]["number"]
    api.upsert_comment(number, PR_MARKER, render_pr_comment(results))
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m associe.github_api")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pr-comment", help="commenter une PR à partir de l'artefact de vérification")
    p.add_argument("--results", required=True, help="dossier de l'artefact (problems.json, duplicates.json, build.json)")
    p.add_argument("--head-sha", default=os.environ.get("HEAD_SHA", ""))
    p = sub.add_parser("maintenance-pr", help="ouvrir ou mettre à jour la PR d'archivage")
    p.add_argument("--changes", required=True, help="JSON {chemin: null} des fichiers à supprimer")
    p.add_argument("--body-file", required=True)
    p.add_argument("--branch", default="maintenance/entrees-expirees")
    p.add_argument("--base", default=os.environ.get("DEFAULT_BRANCH", "main"))
    p.add_argument("--title", default="Archivage des annonces expirées")
    p = sub.add_parser("upsert-issue", help="créer ou mettre à jour un ticket de rapport")
    p.add_argument("--title", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--body-file", required=True)
    args = parser.parse_args(argv)

    api = from_environment()
    if args.command == "pr-comment":
        results = read_results(Path(args.results))
        number = post_pr_comment(api, results, args.head_sha)
        print(f"commentaire publié sur la PR #{number}" if number else "aucune PR ouverte pour ce commit")
        return 0
    if args.command == "maintenance-pr":
        changes = json.loads(Path(args.changes).read_text(encoding="utf-8"))
        if not changes:
            print("rien à archiver")
            return 0
        body = Path(args.body_file).read_text(encoding="utf-8")
        commit_files(api, args.branch, args.base, changes, "Archivage hebdomadaire des annonces expirées")
        pull, created = upsert_pull(api, args.branch, args.base, args.title, body)
        api.add_labels(pull["number"], ["maintenance"])
        print(("PR ouverte" if created else "PR mise à jour") + f" : #{pull['number']}")
        return 0
    body = Path(args.body_file).read_text(encoding="utf-8")
    existing = [i for i in api.open_issues(labels=args.label) if i.get("title") == args.title]
    if existing:
        api.update_issue(existing[0]["number"], body=body)
        print(f"ticket mis à jour : #{existing[0]['number']}")
    else:
        issue = api.create_issue(args.title, body, [args.label])
        print(f"ticket créé : #{issue['number']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
