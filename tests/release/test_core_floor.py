"""Which airlock-core the oldest stack installs for each suite (tools/core_floor.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from core_floor import choose, extract, integration_of, shared_floor
from monorepo import Distribution, ReleaseError, distributions, find
from packaging.version import Version


def floor_of(clone) -> Version:
    """The integrations' shared airlock-core floor in the clone."""
    floor = shared_floor(clone.path)
    assert floor is not None
    return floor


def test_suites_map_to_their_integration(clone):
    assert integration_of(clone.path, "tests/celery").name == "airlock-celery"
    assert integration_of(clone.path, "tests/rq/test_rq_dispatch.py::test_x").name == "airlock-rq"
    assert integration_of(clone.path, "tests/django").name == "airlock-django"
    for target in ["tests/core", "tests/devx", "tests/release", "examples/shop", "-x"]:
        assert integration_of(clone.path, target) is None, target


def test_a_new_integration_s_suite_is_found_by_its_folder_name(clone):
    pyproject = (clone.path / "airlock-rq/pyproject.toml").read_text()
    clone.write(
        "airlock-django-q/pyproject.toml", pyproject.replace("airlock-rq", "airlock-django-q")
    )
    assert integration_of(clone.path, "tests/django_q").name == "airlock-django-q"
    assert integration_of(clone.path, "tests/django").name == "airlock-django"


def test_before_any_core_release_the_tree_stands_in(clone, tmp_path):
    choice = choose(clone.path, ["tests/celery"], tmp_path)
    assert choice.install_args == ["-e", "airlock-core"]
    assert f"airlock-core {floor_of(clone)} (the floor) has no release tag yet" in choice.reason


def test_once_released_the_floor_comes_from_its_tag(clone, tmp_path):
    floor = floor_of(clone)
    core = find(clone.path, "airlock-core")
    core.set_version(floor)
    if clone.status():
        clone.commit("airlock-core at the floor")
    clone.git("tag", f"airlock-core-v{floor}")
    core.set_version(Version("9.9.9"))
    clone.commit("airlock-core moves on")

    choice = choose(clone.path, ["tests/rq"], tmp_path)

    (source,) = choice.install_args
    assert f"airlock-core {floor} from tag airlock-core-v{floor}" in choice.reason
    extracted = find_extracted(source)
    assert extracted.name == "airlock-core"
    assert extracted.version == floor
    assert find(clone.path, "airlock-core").version == Version("9.9.9")


def find_extracted(source: str) -> Distribution:
    """The distribution in an extracted airlock-core folder."""
    (distribution,) = [d for d in distributions(Path(source).parent) if d.folder == Path(source)]
    return distribution


def test_core_suites_always_run_on_the_tree(clone, tmp_path):
    clone.git("tag", f"airlock-core-v{floor_of(clone)}")
    choice = choose(clone.path, ["tests/core"], tmp_path)
    assert choice.install_args == ["-e", "airlock-core"]
    assert "the tree's airlock-core" in choice.reason


def test_an_extracted_tag_is_reused(clone, tmp_path):
    clone.git("tag", "airlock-core-v0.0.1")
    first = extract(clone.path, "airlock-core-v0.0.1", tmp_path)
    marker = first / "marker"
    marker.write_text("kept")
    assert extract(clone.path, "airlock-core-v0.0.1", tmp_path) == first
    assert marker.read_text() == "kept"


def test_integrations_share_one_floor(clone, tmp_path):
    pyproject = clone.path / "airlock-rq/pyproject.toml"
    floor = floor_of(clone)
    pyproject.write_text(
        pyproject.read_text().replace(f"airlock-core>={floor}", "airlock-core>=7.0")
    )
    with pytest.raises(ReleaseError, match="declare different airlock-core floors") as raised:
        choose(clone.path, ["tests/celery"], tmp_path)
    assert "airlock-rq airlock-core>=7.0" in str(raised.value)
