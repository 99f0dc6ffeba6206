"""docs/BUNDLES.md is generated from the bundle schema, and its worked example is a valid
bundle that uses every key, so a bundle author can learn the format from it alone."""

import typing
from typing import Any

import yaml
from pydantic import BaseModel

from kiosk.cli import main
from kiosk.domain.bundle_reference import PARTS, WORKED_EXAMPLE, bundle_reference
from kiosk.domain.bundles import LICENSE_SOURCE_PREFIX, Bundle, FormField, load_bundle
from kiosk.domain.catalog import load_catalog
from kiosk.domain.wizard import StepKind, Wizard, prefill_values
from tests.helpers.paths import CATALOG_FILE, REPO_ROOT

CATALOG_IDS = {c.id for c in load_catalog(CATALOG_FILE).categories}


def test_docs_bundles_md_is_current():
    assert (REPO_ROOT / "docs" / "BUNDLES.md").read_text("utf-8") == bundle_reference(), (
        "docs/BUNDLES.md is stale: run `kiosk bundle-reference -o docs/BUNDLES.md`")


def test_the_command_writes_it(tmp_path):
    out = tmp_path / "BUNDLES.md"
    assert main(["bundle-reference", "-o", str(out)]) == 0
    assert out.read_text("utf-8") == bundle_reference()


def test_every_part_and_key_is_explained():
    text = bundle_reference()
    for model, _where in PARTS:
        assert f"### {model.__name__}" in text
        for key, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{key} has no description"
            assert f"| `{key}` |" in text, key
    # The keys found only by reading other bundles, before this reference.
    for key in ("required", "allow_future", "allow_past", "min_len", "max_len", "help", "note",
                "label", "min_date", "max_date", "license_of", "person"):
        assert f"`{key}`" in text
    assert "是 / 否" in text and "(Yes / No)" in text  # the yes/no labels
    assert "Put a text in quotes when it holds `: `" in text  # YAML's comma and colon traps


def _keys_used(data: Any, found: dict[str, set[str]], model: type[BaseModel]) -> None:
    found.setdefault(model.__name__, set())
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        found[model.__name__].add(key)
        info = model.model_fields.get(key)
        if info is None:
            continue
        for sub in _models(info.annotation):
            for item in value if isinstance(value, list) else [value]:
                _keys_used(item, found, sub)


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _models(a)]


def test_the_worked_example_is_a_valid_bundle_using_every_key(tmp_path):
    path = tmp_path / "newborn_insurance.yaml"
    path.write_text(WORKED_EXAMPLE, encoding="utf-8")
    bundle = load_bundle(path, CATALOG_IDS)
    found: dict[str, set[str]] = {}
    _keys_used(yaml.safe_load(WORKED_EXAMPLE), found, Bundle)
    for model, _where in PARTS:
        assert set(model.model_fields) <= found.get(model.__name__, set()), (
            model.__name__, set(model.model_fields) - found.get(model.__name__, set()))
    kinds = set(typing.get_args(FormField.model_fields["kind"].annotation))
    assert {f.kind for f in bundle.fields} == kinds
    sources = {p.source.split(":")[0] + (":" if ":" in p.source else "")
               for p in bundle.prefilled}
    assert {"resident.name", "resident.id_number", "resident.phone",
            LICENSE_SOURCE_PREFIX} <= sources
    thens = [o.then for q in bundle.questions for o in q.options if o.then]
    assert any(t.ineligible for t in thens) and any(t.skip_to == "materials" for t in thens)
    assert any(t.skip_to and t.skip_to != "materials" for t in thens)
    # It says what it does: the baby's number comes before the materials list.
    w = Wizard(bundle)
    w.identify(licenses=set(), prefill_values=prefill_values(name="张伟"))
    w.answer("hukou", "shanghai")
    w.answer("card", "yes")
    w.answer("card_by_post", "yes")
    steps = [s.key for s in w.steps]
    assert steps.index("field:child_id_number") < steps.index("materials")
    assert w.steps[-1].kind is StepKind.CONFIRM
    assert "field:collect_on" not in steps and "field:postcode" in steps
