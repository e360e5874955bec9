"""`rootstock push` against a loopback Hub (tests/hub_server.py): what arrives, dry run, resume, refusals."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from huggingface_hub import constants
from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

from rootstock.errors import PushError
from rootstock.pipeline.cli import main
from rootstock.pipeline.release.push import push
from tests.hub_server import HubServer

TOKEN = "hf_loopback_test_token"
REPO_ID = "rootstock-org/demo-corpus"


@pytest.fixture
def release(demo_release: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "release"
    shutil.copytree(demo_release, copy)
    return copy


@pytest.fixture(autouse=True)
def hub_client(monkeypatch):
    """huggingface_hub online (the only server is on loopback), plain LFS, and no saved login used."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    disable_progress_bars()
    yield
    enable_progress_bars()


@pytest.fixture
def hub():
    with HubServer(token=TOKEN) as hub:
        yield hub


def manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text())


def published(release: Path, *lists: str) -> dict[str, bytes]:
    """What the Hub should hold: the listed files plus manifest and card, byte for byte."""
    paths = [e["path"] for key in ("shards", *lists) for e in manifest(release)[key]] + ["manifest.json", "README.md"]
    return {p: (release / p).read_bytes() for p in paths}


def test_push_publishes_shards_manifest_and_card_in_one_commit(demo_release: Path, hub):
    report = push(str(demo_release), REPO_ID, private=True, revision="v1", endpoint=hub.url, token=TOKEN)

    repo = hub.repos[REPO_ID]
    assert repo.private
    assert hub.files(REPO_ID, "v1") == published(demo_release)
    shards = {e["path"] for e in manifest(demo_release)["shards"]}
    assert hub.lfs_paths(REPO_ID, "v1") == shards  # Parquet through LFS, manifest and card as regular files
    assert sorted(hub.uploads) == sorted({e["sha256"] for e in manifest(demo_release)["shards"]})
    assert hub.files(REPO_ID, "main") == {}  # --revision: main untouched
    [commit] = repo.commits
    assert commit["revision"] == "v1" and commit["oid"] == repo.branches["v1"] == report["commit_oid"]
    assert (
        commit["summary"]
        == f"rootstock release rootstock-demo: {len(shards)} shards, {manifest(demo_release)['totals']['docs_out']} documents"
    )
    assert report["commit_url"].endswith(f"/datasets/{REPO_ID}/commit/{commit['oid']}")
    assert report["bytes"] == sum(map(len, published(demo_release).values()))
    assert not report["warnings"]

    # The same release again: nothing to upload, nothing to commit.
    again = push(str(demo_release), REPO_ID, revision="v1", endpoint=hub.url, token=TOKEN)
    assert not again["committed"] and len(repo.commits) == 1 and len(hub.uploads) == len(shards)
    assert again["commit_oid"] == commit["oid"]


def test_dry_run_lists_files_and_contacts_no_server(demo_release: Path, hub, capsys):
    code = main(["push", str(demo_release), "--repo-id", REPO_ID, "--dry-run", "--endpoint", hub.url])

    out = capsys.readouterr().out
    assert code == 0 and hub.requests == []
    listed = {line.split()[-1]: line.split()[0] for line in out.splitlines() if line.startswith("  ")}
    assert listed == {p: "lfs" if p.endswith(".parquet") else "regular" for p in published(demo_release)}
    assert f"datasets/{REPO_ID} (revision main)" in out
    assert "commit message: rootstock release rootstock-demo:" in out
    assert "add --include-rejected" in out and "nothing uploaded (dry run)" in out


def test_interrupted_push_says_what_failed_and_resumes(demo_release: Path, hub, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # the token as users give it
    shards = manifest(demo_release)["shards"]
    victim = shards[3]
    hub.fail_upload(victim["sha256"], status=403, message="Request has expired")
    argv = ["push", str(demo_release), "--repo-id", REPO_ID, "--endpoint", hub.url]

    assert main(argv) == 1
    err = capsys.readouterr().err
    assert (
        f"push to datasets/{REPO_ID}@main failed while uploading {victim['path']}: HTTP 403 (Request has expired)"
        in err
    )
    assert f"of {len(published(demo_release))} files" in err and "Re-run the same command to resume" in err
    repo = hub.repos[REPO_ID]
    assert repo.commits == [] and victim["sha256"] not in repo.lfs
    arrived = set(repo.lfs)
    assert arrived  # the rest of the batch got through before the failure surfaced

    before = len(hub.uploads)
    assert main(argv) == 0
    resumed = hub.uploads[before:]
    missing = {s["sha256"] for s in shards} - arrived
    assert sorted(resumed) == sorted(missing)  # only what was missing, each once
    assert hub.files(REPO_ID) == published(demo_release)
    [commit] = repo.commits
    assert commit["summary"].startswith("rootstock release rootstock-demo")
    assert "pushed: " in capsys.readouterr().out


def test_rejected_and_artifacts_are_published_only_on_request(demo_release: Path, hub):
    report = push(str(demo_release), REPO_ID, endpoint=hub.url, token=TOKEN)
    listed = manifest(demo_release)
    assert report["excluded"] == {
        "rejected_shards": len(listed["rejected_shards"]),
        "artifacts": len(listed["artifacts"]),
    }
    assert listed["rejected_shards"] and not any(p.startswith(("rejected/", "dedup/")) for p in hub.files(REPO_ID))

    push(str(demo_release), REPO_ID, endpoint=hub.url, token=TOKEN, include_rejected=True)
    assert hub.files(REPO_ID) == published(demo_release, "rejected_shards")

    # Pushing without them again takes them down: the repo mirrors what the last push published.
    report = push(str(demo_release), REPO_ID, endpoint=hub.url, token=TOKEN)
    assert hub.files(REPO_ID) == published(demo_release)
    assert report["deleted"] == sorted(e["path"] for e in listed["rejected_shards"])
    assert hub.repos[REPO_ID].commits[-1]["deleted"] == report["deleted"]


def test_tampered_release_is_refused_before_contacting_the_hub(release: Path, hub):
    shard = release / manifest(release)["shards"][0]["path"]
    shard.write_bytes(shard.read_bytes() + b"tampered")

    with pytest.raises(PushError) as err:
        push(str(release), REPO_ID, endpoint=hub.url, token=TOKEN)
    assert "does not match its manifest; refusing to push" in str(err.value)
    assert f"{manifest(release)['shards'][0]['path']}: sha256" in str(err.value)
    assert hub.requests == []


def rewrite_manifest(release: Path, change) -> None:
    data = manifest(release)
    change(data)
    (release / "manifest.json").write_text(json.dumps(data, indent=2))


def test_release_without_card_warns_but_pushes(release: Path, hub, capsys, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    (release / "README.md").unlink()  # as made before `rootstock run` wrote dataset cards
    rewrite_manifest(release, lambda m: m.pop("card"))
    code = main(["push", str(release), "--repo-id", REPO_ID, "--endpoint", hub.url, "--include-artifacts"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "warning: README.md: missing" in captured.err
    files = hub.files(REPO_ID)
    assert "README.md" not in files and files["manifest.json"] == (release / "manifest.json").read_bytes()
    assert {p for p in files if p.startswith("dedup/")} == {e["path"] for e in manifest(release)["artifacts"]}


def test_bad_card_yaml_is_refused_before_contacting_the_hub(release: Path, hub):
    bad = b"---\nlicense: [cc0\n---\n# card\n"
    (release / "README.md").write_bytes(bad)
    rewrite_manifest(release, lambda m: m["card"].update(file_bytes=len(bad), sha256=hashlib.sha256(bad).hexdigest()))
    with pytest.raises(PushError, match="README.md: invalid YAML metadata"):
        push(str(release), REPO_ID, endpoint=hub.url, token=TOKEN)
    assert hub.requests == []


def test_private_push_refuses_an_existing_public_repo(demo_release: Path, hub):
    push(str(demo_release), REPO_ID, endpoint=hub.url, token=TOKEN)
    assert not hub.repos[REPO_ID].private
    with pytest.raises(PushError, match="exists and is public"):
        push(str(demo_release), REPO_ID, private=True, revision="v2", endpoint=hub.url, token=TOKEN)
    assert len(hub.repos[REPO_ID].commits) == 1


def test_bad_token_is_a_clear_error(demo_release: Path, hub):
    with pytest.raises(PushError) as err:
        push(str(demo_release), REPO_ID, endpoint=hub.url, token="hf_wrong")
    assert "failed while preparing the repo: HTTP 401" in str(err.value) and "HF_TOKEN" in str(err.value)
    assert REPO_ID not in hub.repos


def test_every_request_goes_to_the_given_endpoint(demo_release: Path, hub, monkeypatch):
    """With HF_ENDPOINT naming another Hub, `--endpoint` still routes every call (none leaks there)."""
    with HubServer(token=TOKEN) as elsewhere:
        monkeypatch.setattr(constants, "ENDPOINT", elsewhere.url)
        push(str(demo_release), REPO_ID, endpoint=hub.url, token=TOKEN)
        assert REPO_ID in hub.repos
        assert elsewhere.requests == []
