"""nox -s changelog: a change to a distribution's src/ comes with a news fragment."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(300)


def check(clone, base: str | None = "main"):
    """Run the changelog session against ``base`` (None: the default, origin/main)."""
    done = clone.nox("-s", "changelog", env={"AIRLOCK_CHANGELOG_BASE": base} if base else None)
    return done.returncode, done.stdout + done.stderr


def change_rq_source(clone) -> None:
    """Edit a module of airlock-rq, as a feature branch would."""
    module = clone.path / "airlock-rq/src/airlock_rq/config.py"
    module.write_text(module.read_text() + "\n# a change under review\n")


@pytest.fixture
def branch(clone):
    """The clone on a feature branch made from main."""
    clone.git("checkout", "--quiet", "-b", "feature")
    return clone


def test_a_clean_clone_of_main_has_nothing_to_compare(clone):
    code, output = check(clone, base=None)
    assert code == 0, output
    assert "nothing to compare, there is no origin/main here" in output


def test_no_change_since_the_base(branch):
    code, output = check(branch)
    assert code == 0, output
    assert "nothing to compare, no change since main" in output


def test_changes_outside_src_need_no_fragment(branch):
    branch.write("airlock-rq/README.md", "# airlock-rq\n\nReworded.\n")
    branch.write("docs/new-page.md", "# New\n")
    branch.commit("Docs and README only")
    code, output = check(branch)
    assert code == 0, output
    assert "no distribution's src/ changed since main" in output


def test_a_source_change_without_a_fragment_fails(branch):
    change_rq_source(branch)
    branch.commit("Change airlock-rq")
    code, output = check(branch)
    assert code == 1, output
    assert (
        "airlock-rq/src/ changed since main, but airlock-rq/changelog.d/ has no new fragment"
        in output
    )
    assert "towncrier create --dir airlock-rq" in output
    assert "airlock-celery" not in output


def test_uncommitted_changes_count_too(branch):
    change_rq_source(branch)
    code, output = check(branch)
    assert code == 1, output
    branch.write("airlock-rq/changelog.d/+config.changed.md", "The connection is read once.\n")
    code, output = check(branch)
    assert code == 0, output


def test_the_default_base_is_origin_main(branch):
    branch.git("update-ref", "refs/remotes/origin/main", "main")
    change_rq_source(branch)
    branch.commit("Change airlock-rq")
    code, output = check(branch, base=None)
    assert code == 1, output
    assert "changed since origin/main" in output


def test_a_fragment_satisfies_the_check(branch):
    change_rq_source(branch)
    branch.write("airlock-rq/changelog.d/+config.changed.md", "The connection is read once.\n")
    branch.commit("Change airlock-rq, with its note")
    code, output = check(branch)
    assert code == 0, output
    assert "changed since main, each with its notes: airlock-rq." in output


def test_the_fragment_must_be_the_changed_distribution_s(branch):
    change_rq_source(branch)
    branch.write("airlock-celery/changelog.d/+other.fixed.md", "Not about airlock-rq.\n")
    branch.commit("Change airlock-rq, note elsewhere")
    code, output = check(branch)
    assert code == 1, output
    assert "airlock-rq/changelog.d/ has no new fragment" in output


def test_the_skip_trailer_is_the_escape_hatch(branch):
    change_rq_source(branch)
    branch.git("add", "--all")
    branch.git("commit", "--quiet", "-m", "Rename a local variable\n\nChangelog: skip")
    code, output = check(branch)
    assert code == 0, output
    assert "Changelog: skip on a commit since main; not required" in output


def test_a_trailer_elsewhere_in_the_message_is_not_one(branch):
    change_rq_source(branch)
    branch.git("add", "--all")
    branch.git("commit", "--quiet", "-m", "Changelog: skip\n\nThe trailer belongs at the end.")
    code, output = check(branch)
    assert code == 1, output


def test_a_fragment_towncrier_cannot_read_fails(clone):
    clone.write("airlock-rq/changelog.d/retry-fix.md", "No type in the name.\n")
    clone.commit("A badly named fragment")
    code, output = check(clone, base=None)
    assert code == 1, output
    assert "airlock-rq: towncrier cannot render changelog.d/" in output
    assert "Invalid news fragment name: retry-fix.md" in output


def test_an_explicit_base_that_does_not_exist_fails(clone):
    code, output = check(clone, base="origin/nowhere")
    assert code == 1, output
    assert "AIRLOCK_CHANGELOG_BASE='origin/nowhere' names no commit here" in output
