"""Bundle files: every shipped bundle loads, and every kind of mistake a member of staff can
make gets one message naming the file, the key path and what was expected."""

import copy
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from kiosk.backend.seed import LICENSE_TITLES
from kiosk.cli.bundles import check_bundles_command
from kiosk.config.loader import ConfigFileError
from kiosk.domain.bundle_reference import bundle_reference
from kiosk.domain.bundles import (
    LICENSE_KINDS,
    Bundle,
    date_bound,
    load_bundle,
    load_bundles,
)
from kiosk.domain.catalog import load_catalog
from tests.helpers.hostile_files import (
    HOSTILE_BYTES,
    HOSTILE_YAML,
    HUGE_HEX,
    LONG,
    mutated,
    rare_yaml,
    yaml_ish,
)
from tests.helpers.paths import BUNDLES_DIR, CATALOG_FILE, REPO_ROOT

BUNDLES = BUNDLES_DIR
CATALOG = CATALOG_FILE
CATALOG_IDS = {c.id for c in load_catalog(CATALOG).categories}
SHIPPED = ["retirement", "birth", "residence_permit", "social_assistance", "long_term_care",
           "unemployment_benefit", "after_death"]


def bi(zh: str = "示例", en: str = "Sample") -> dict[str, str]:
    return {"zh": zh, "en": en}


def minimal() -> dict[str, Any]:
    """A small valid bundle that uses every feature once."""
    return {
        "id": "sample",
        "order": 5,
        "title": bi(),
        "summary": bi(),
        "description": bi(),
        "departments": [{"name": bi("市民政局", "Civil Affairs"), "services": [bi()]}],
        "trips_saved": 2,
        "ticket_category": "other",
        "processing_days": 5,
        "questions": [
            {"id": "q1", "kind": "yes_no", "text": bi(),
             "options": [{"id": "no", "then": {"skip_to": "q3"}}]},
            {"id": "q2", "kind": "choice", "text": bi(),
             "options": [{"id": "a", "label": bi()},
                         {"id": "b", "label": bi(), "then": {"add_materials": ["extra"]}}]},
            {"id": "q3", "kind": "yes_no", "text": bi(),
             "options": [{"id": "no", "then": {"ineligible": {"reason": bi(),
                                                              "go_instead": bi()}}}]},
        ],
        "materials": [
            {"id": "id_card", "title": bi(), "license": "id_card"},
            {"id": "photo", "title": bi()},
            {"id": "extra", "title": bi(), "conditional": True},
        ],
        "fields": [{"id": "phone", "label": bi(), "kind": "phone"}],
        "prefilled": [{"id": "name", "label": bi(), "source": "resident.name"}],
        "next_steps": [bi()],
    }


def write(folder: Path, data: Any, name: str = "sample") -> Path:
    path = folder / f"{name}.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, data: Any, name: str = "sample") -> tuple[Path, str]:
    path = write(tmp_path, data, name)
    with pytest.raises(ConfigFileError) as info:
        load_bundle(path, CATALOG_IDS)
    assert info.value.path == path
    return path, info.value.message()


# ------------------------------------------------------------------ shipped bundles
def test_every_shipped_bundle_loads_in_order():
    result = load_bundles(BUNDLES, CATALOG_IDS)
    assert [e.message() for e in result.errors] == []
    assert [b.id for b in result.bundles] == SHIPPED
    assert [b.order for b in result.bundles] == sorted(b.order for b in result.bundles)


@pytest.mark.parametrize("bundle_id", SHIPPED)
def test_shipped_bundle_is_substantial(bundle_id):
    b = load_bundle(BUNDLES / f"{bundle_id}.yaml", CATALOG_IDS)
    assert b.id == bundle_id and b.ticket_category in CATALOG_IDS
    assert b.departments and b.questions and b.materials and b.next_steps
    # At least one branch that changes the path or the materials.
    thens = [o.then for q in b.questions for o in q.options if o.then]
    assert any(t.skip_to or t.add_materials for t in thens)
    # 两个免于提交: some material is covered by an electronic license.
    assert any(m.license for m in b.materials)
    assert any(f.kind == "phone" for f in b.fields) or any(
        p.source == "resident.phone" for p in b.prefilled)
    assert all(p.source.startswith(("resident.", "license:")) for p in b.prefilled)


def test_shipped_bundles_cover_every_feature():
    bundles = load_bundles(BUNDLES, CATALOG_IDS).bundles
    thens = [o.then for b in bundles for q in b.questions for o in q.options if o.then]
    assert any(t.ineligible for t in thens)
    assert any(t.skip_to == "materials" for t in thens)
    assert any(t.skip_to and t.skip_to != "materials" for t in thens)
    kinds = {f.kind for b in bundles for f in b.fields}
    assert kinds == {"phone", "bank_card", "date", "id_number", "other_id_number", "digits"}
    assert any(f.skip_if for b in bundles for f in b.fields)
    residence = next(b for b in bundles if b.id == "residence_permit")
    first = residence.questions[0].option("no").then
    assert first is not None and first.ineligible is not None
    assert "派出所" in first.ineligible.go_instead.zh


def test_license_kinds_match_the_backend_seed():
    assert set(LICENSE_TITLES) == LICENSE_KINDS


def test_every_schema_key_has_a_description_and_is_in_the_reference():
    reference = bundle_reference()
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen or model.__module__ != "kiosk.domain.bundles":
            return
        seen.add(model)
        for key, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{key} has no description"
            assert f"`{key}`" in reference
            for arg in _models_in(info.annotation):
                walk(arg)

    walk(Bundle)
    assert len(seen) >= 9


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in getattr(annotation, "__args__", ()) for m in _models_in(a)]


# ------------------------------------------------------------------ each kind of mistake
def test_minimal_bundle_is_valid(tmp_path):
    b = load_bundle(write(tmp_path, minimal()), CATALOG_IDS)
    q1 = b.question("q1")
    assert [o.id for o in q1.options] == ["no", "yes"]  # yes filled in, with its label
    assert q1.option("yes").label.zh == "是"


def test_bare_yaml_yes_no_mean_the_option_ids(tmp_path):
    text = yaml.safe_dump(minimal(), allow_unicode=True).replace("id: 'no'", "id: no")
    assert "id: no" in text
    b = load_bundle(write(tmp_path, text), CATALOG_IDS)
    assert b.question("q1").option("no").then is not None


def test_unknown_key(tmp_path):
    data = minimal()
    data["titel"] = bi()
    data["questions"][1]["options"][0]["lable"] = bi()
    path, msg = problems(tmp_path, data)
    assert str(path) in msg
    assert "titel: unknown key" in msg
    assert "questions[1].options[0].lable: unknown key" in msg
    assert "2 problem(s)" in msg


def test_wrong_type(tmp_path):
    data = minimal()
    data["trips_saved"] = "three"
    data["questions"][0]["kind"] = "multi"
    _, msg = problems(tmp_path, data)
    assert "trips_saved:" in msg and "integer" in msg and "'three'" in msg
    assert "questions[0].kind:" in msg and "'yes_no' or 'choice'" in msg


def test_missing_required(tmp_path):
    data = minimal()
    del data["title"]
    del data["materials"][1]["title"]
    _, msg = problems(tmp_path, data)
    assert "title: required key is missing" in msg
    assert "materials[1].title: required key is missing" in msg


def test_choice_option_needs_a_label(tmp_path):
    data = minimal()
    del data["questions"][1]["options"][0]["label"]
    _, msg = problems(tmp_path, data)
    assert "questions[1].options[0].label: required key is missing" in msg


def test_unknown_skip_to(tmp_path):
    data = minimal()
    data["questions"][0]["options"][0]["then"]["skip_to"] = "q9"
    _, msg = problems(tmp_path, data)
    assert ("questions[0].options[0].then.skip_to: unknown question 'q9', "
            "expected one of q2, q3, materials") in msg


def test_skip_to_must_go_forward(tmp_path):
    data = minimal()
    data["questions"][2]["options"].append({"id": "yes", "then": {"skip_to": "q1"}})
    _, msg = problems(tmp_path, data)
    assert "questions[2].options[1].then.skip_to:" in msg
    assert "'q1' is not after this question" in msg and "expected one of materials" in msg


def test_unknown_material_in_add_materials(tmp_path):
    data = minimal()
    data["questions"][1]["options"][1]["then"]["add_materials"] = ["extra", "pasport"]
    _, msg = problems(tmp_path, data)
    assert ("questions[1].options[1].then.add_materials[1]: unknown material 'pasport', "
            "expected one of id_card, photo, extra") in msg


def test_adding_an_unconditional_material_and_an_orphan_conditional(tmp_path):
    data = minimal()
    data["questions"][1]["options"][1]["then"]["add_materials"] = ["photo"]
    _, msg = problems(tmp_path, data)
    assert "add_materials[0]: material 'photo' is always needed" in msg
    assert "materials[2].conditional: no answer adds material 'extra'" in msg


def test_duplicate_ids(tmp_path):
    data = minimal()
    data["questions"][2]["id"] = "q1"
    data["questions"][0]["options"][0]["then"]["skip_to"] = "q2"
    data["materials"].append({"id": "photo", "title": bi()})
    data["questions"][1]["options"].append({"id": "a", "label": bi()})
    _, msg = problems(tmp_path, data)
    assert "questions[2].id: duplicate id 'q1' (also questions[0])" in msg
    assert "materials[3].id: duplicate id 'photo' (also materials[1])" in msg
    assert "questions[1].options[2].id: duplicate id 'a' (also questions[1].options[0])" in msg


def test_ticket_category_must_be_in_the_catalog(tmp_path):
    data = minimal()
    data["ticket_category"] = "pensions"
    _, msg = problems(tmp_path, data)
    assert "ticket_category: unknown service category 'pensions'" in msg
    assert "social_security" in msg and "catalog.yaml" in msg
    # Without a catalog at hand the category is not checked.
    assert load_bundle(tmp_path / "sample.yaml").ticket_category == "pensions"


def test_unknown_license_kinds(tmp_path):
    data = minimal()
    data["materials"][1]["license"] = "passport"
    data["prefilled"].append({"id": "pp", "label": bi(), "source": "license:passport"})
    data["prefilled"].append({"id": "em", "label": bi(), "source": "resident.email"})
    _, msg = problems(tmp_path, data)
    assert "materials[1].license: unknown license kind, expected one of " in msg
    assert "id_card" in msg and "(found 'passport')" in msg
    assert "prefilled[1].source: unknown license kind 'passport' after license:" in msg
    assert "prefilled[2].source: unknown source, expected one of resident.name" in msg


def test_then_must_do_one_thing(tmp_path):
    data = minimal()
    data["questions"][1]["options"][0]["then"] = {}
    data["questions"][2]["options"][0]["then"]["skip_to"] = "materials"
    _, msg = problems(tmp_path, data)
    assert "questions[1].options[0].then: `then` needs skip_to, add_materials" in msg
    assert "questions[2].options[0].then: ineligible ends the wizard" in msg


def test_yes_no_question_has_only_yes_and_no(tmp_path):
    data = minimal()
    data["questions"][0]["options"].append({"id": "maybe", "label": bi()})
    _, msg = problems(tmp_path, data)
    assert "questions[0]: a yes_no question has exactly the options yes and no" in msg


def test_field_options_fit_the_kind(tmp_path):
    data = minimal()
    data["fields"][0]["min_len"] = 3
    data["fields"].append({"id": "d", "label": bi(), "kind": "digits", "min_len": 6,
                           "max_len": 2})
    data["fields"].append({"id": "e", "label": bi(), "kind": "date", "allow_past": False})
    _, msg = problems(tmp_path, data)
    assert "fields[0]: min_len and max_len apply to kind digits only" in msg
    assert "fields[1]: min_len (6) is larger than max_len (2)" in msg
    assert "fields[2]: a date field must allow past or future dates" in msg


def test_skip_if_names_a_real_answer(tmp_path):
    data = minimal()
    data["fields"][0]["skip_if"] = [{"question": "q7", "option": "yes"},
                                    {"question": "q2", "option": "c"}]
    _, msg = problems(tmp_path, data)
    assert "fields[0].skip_if[0].question: unknown question 'q7'" in msg
    assert "fields[0].skip_if[1].option: unknown option 'c' of question 'q2', " \
           "expected one of a, b" in msg


# ------------------------------------------------------------------ another person, date bounds
DECEASED_FIELD = {"id": "deceased", "label": bi("逝者身份证号码", "Their ID number"),
                  "kind": "other_id_number", "person": bi("逝者", "the deceased")}


def with_another_person() -> dict[str, Any]:
    data = minimal()
    data["fields"].append(dict(DECEASED_FIELD))
    data["materials"].append({"id": "death", "title": bi(), "license": "death_certificate",
                              "license_of": "deceased"})
    return data


def test_another_persons_number_and_licenses(tmp_path):
    b = load_bundle(write(tmp_path, with_another_person()), CATALOG_IDS)
    assert b.form_field("deceased").kind == "other_id_number"
    assert b.material("death").license_of == "deceased"


def test_another_persons_number_says_whose_it_is(tmp_path):
    data = with_another_person()
    del data["fields"][1]["person"]
    data["fields"][0]["person"] = bi()
    _, msg = problems(tmp_path, data)
    assert "fields[1]: an other_id_number field needs `person`: whose number it is" in msg
    assert "fields[0]: person applies to kind other_id_number only" in msg


def test_license_of_names_an_other_id_number_field_and_needs_a_license(tmp_path):
    data = with_another_person()
    data["materials"].append({"id": "m2", "title": bi(), "license": "id_card",
                              "license_of": "phone"})
    data["materials"].append({"id": "m3", "title": bi(), "license": "id_card",
                              "license_of": "decesed"})
    _, msg = problems(tmp_path, data)
    assert ("materials[4].license_of: field 'phone' is not of kind other_id_number, expected "
            "one of deceased") in msg
    assert "materials[5].license_of: unknown field 'decesed', expected one of deceased" in msg
    data["materials"].append({"id": "m4", "title": bi(), "license_of": "deceased"})
    _, msg = problems(tmp_path, data)
    assert "materials[6]: license_of says whose license exempts the material: give the " \
           "license kind too" in msg


@pytest.mark.parametrize("bound", ["-12 mnths", "yesterday", "12 months", "-1000 days",
                                   "2024-02-30", "-12个月", ""])
def test_a_date_bound_that_means_no_day(tmp_path, bound):
    data = minimal()
    data["fields"].append({"id": "died", "label": bi(), "kind": "date", "min_date": bound})
    _, msg = problems(tmp_path, data)
    assert ("fields[1].min_date: expected \"today\", a day like 2024-01-31, or a distance "
            "from today such as \"-12 months\"") in msg
    assert f"(found {bound!r})" in msg


def test_date_bounds_that_contradict(tmp_path):
    data = minimal()
    data["fields"] += [
        {"id": "a", "label": bi(), "kind": "date", "min_date": "-1 month", "max_date": "-1 year"},
        {"id": "b", "label": bi(), "kind": "date", "min_date": "-1 year", "allow_past": True},
        {"id": "c", "label": bi(), "kind": "date", "max_date": "+30 days", "allow_future": True},
        {"id": "d", "label": bi(), "kind": "phone", "max_date": "today"},
        {"id": "e", "label": bi(), "kind": "date", "min_date": "2025-01-01",
         "max_date": "2024-12-31"},
    ]
    _, msg = problems(tmp_path, data)
    assert ("fields[1]: min_date ('-1 month') is later than max_date ('-1 year'): no date "
            "could be accepted") in msg
    assert "fields[2]: min_date replaces allow_past: remove allow_past" in msg
    assert "fields[3]: max_date replaces allow_future: remove allow_future" in msg
    assert "fields[4]: min_date and max_date apply to kind date only" in msg
    assert "fields[5]: min_date ('2025-01-01') is later than max_date ('2024-12-31')" in msg


def test_date_bounds_as_written(tmp_path):
    text = yaml.safe_dump(minimal(), allow_unicode=True) + ""
    text = text.replace("fields:\n", "fields:\n- id: died\n  label: {zh: 日期, en: Date}\n"
                        "  kind: date\n  min_date: 2024-01-31\n  max_date: today\n"
                        "- id: soon\n  label: {zh: 日期, en: Date}\n  kind: date\n"
                        "  min_date: -2 weeks\n  max_date: +1 YEAR\n", 1)
    b = load_bundle(write(tmp_path, text), CATALOG_IDS)
    assert b.form_field("died").min_date == "2024-01-31"  # YAML read it as a date
    assert date_bound("-2 weeks", dt.date(2025, 3, 15)) == dt.date(2025, 3, 1)
    assert date_bound(b.form_field("soon").max_date or "", dt.date(2024, 2, 29)) == \
        dt.date(2025, 2, 28)
    assert date_bound("-1 month", dt.date(2025, 3, 31)) == dt.date(2025, 2, 28)
    assert date_bound("-12 months", dt.date(2025, 1, 15)) == dt.date(2024, 1, 15)
    assert date_bound("today", dt.date(2025, 1, 15)) == dt.date(2025, 1, 15)


# ------------------------------------------------------------------ where errors point
def test_bundle_errors_point_at_the_bundle_reference(tmp_path):
    data = minimal()
    data["fields"][0]["alow_future"] = True
    data["questions"][0]["hlep"] = bi()
    _, msg = problems(tmp_path, data)
    assert "docs/CONFIG.md" not in msg
    assert "see docs/BUNDLES.md for the keys" in msg
    assert msg.rstrip().endswith("docs/BUNDLES.md")
    assert (REPO_ROOT / "docs" / "BUNDLES.md").is_file()


@pytest.mark.parametrize(("tail", "at", "expected"), [
    # A colon and a space inside an unquoted text: YAML reads a new key.
    ("summary:\n  zh: 注意: 原件\n  en: x\n", 1, 'the text holds ": " (a colon and a space)'),
    ("summary: {zh: 说明, en: Note: bring it}\n", 0, 'the text holds ": " (a colon and a'),
    ("summary:\n  zh: 说明\n  en: Time: 9:00\n", 2, 'the text holds ": " (a colon and a'),
    # " #" starts a comment inside {...}, which leaves it unclosed.
    ("summary: {zh: 第 #1 号窗口, en: Window 1}\n", 0, 'the text holds " #"'),
    # A full-width colon after a key is no separator: the line after it breaks.
    ("summary:\n  zh：说明\n  en: x\n", 1, 'a full-width colon "：" does not separate'),
])
def test_yaml_traps_say_put_the_text_in_quotes(tmp_path, tail, at, expected):
    data = minimal()
    del data["summary"]
    head = yaml.safe_dump(data, allow_unicode=True)
    _, msg = problems(tmp_path, head + tail)
    assert "YAML syntax error" in msg and expected in msg
    assert f"; line {head.count(chr(10)) + at + 1}: " in msg
    if "full-width" not in expected:
        assert "put the whole text in quotes" in msg


@pytest.mark.parametrize(("text", "expected"), [
    ("{zh: 出生、户口, 医保一次办, en: x}", "a comma and a space end a text"),
    ("{zh：出生, en: x}", 'a full-width colon "：" does not separate'),
])
def test_a_text_cut_into_keys_says_put_it_in_quotes(tmp_path, text, expected):
    data = minimal()
    del data["summary"]
    _, msg = problems(tmp_path, yaml.safe_dump(data, allow_unicode=True) + f"summary: {text}\n")
    assert "summary." in msg and "no such key: " in msg and expected in msg
    assert "check the spelling" not in msg


def test_id_must_match_the_file_name(tmp_path):
    _, msg = problems(tmp_path, minimal(), name="other")
    assert "id: must equal the file name 'other' (found 'sample')" in msg


def test_yaml_syntax_error(tmp_path):
    # A mis-indented key: refused alike by libyaml (what the kiosk uses) and pure-Python
    # PyYAML. ("en: Where?}" in a flow mapping was once used here: only PyYAML refuses it.)
    path, msg = problems(tmp_path, "id: sample\n  title: {zh: 示例, en: Where}\n")
    assert str(path) in msg and "YAML syntax error at line 2" in msg


def test_not_a_mapping(tmp_path):
    _, msg = problems(tmp_path, "- id: sample\n")
    assert "expected a mapping of keys" in msg


def test_direct_validation_refuses_dangling_references():
    data = minimal()
    data["questions"][0]["options"][0]["then"]["skip_to"] = "q9"
    with pytest.raises(ValidationError, match="unknown question 'q9'"):
        Bundle.model_validate(data)


# ------------------------------------------------------------------ folders
def test_a_broken_file_leaves_the_good_ones_loaded(tmp_path):
    for name in SHIPPED:
        shutil.copy(BUNDLES / f"{name}.yaml", tmp_path)
    broken = copy.deepcopy(minimal())
    broken["id"] = "broken"
    broken["ticket_category"] = "nowhere"
    write(tmp_path, broken, "broken")
    write(tmp_path, "title: [unclosed\n", "syntax")
    (tmp_path / "README.txt").write_text("not a bundle", encoding="utf-8")
    result = load_bundles(tmp_path, CATALOG_IDS)
    assert [b.id for b in result.bundles] == SHIPPED
    assert sorted(e.path.name for e in result.errors) == ["broken.yaml", "syntax.yaml"]
    assert result.get("birth").id == "birth"


def test_order_then_id(tmp_path):
    for name, order in (("zeta", 1), ("alpha", 1), ("first", 0)):
        data = minimal()
        data["id"], data["order"] = name, order
        write(tmp_path, data, name)
    assert [b.id for b in load_bundles(tmp_path, CATALOG_IDS).bundles] == [
        "first", "alpha", "zeta"]


def test_same_id_in_two_files(tmp_path):
    write(tmp_path, minimal())
    (tmp_path / "sample.yml").write_text((tmp_path / "sample.yaml").read_text("utf-8"),
                                         encoding="utf-8")
    result = load_bundles(tmp_path, CATALOG_IDS)
    assert len(result.bundles) == 1
    assert "duplicate bundle id 'sample'" in result.errors[0].message()


def test_missing_folder(tmp_path):
    result = load_bundles(tmp_path / "nope", CATALOG_IDS)
    assert not result.bundles and "folder not found" in result.errors[0].message()


# ------------------------------------------------------------------ check-bundles
def test_check_bundles_ok(capsys):
    assert check_bundles_command(str(BUNDLES), None) == 0
    assert capsys.readouterr().out.strip() == f"OK: {len(SHIPPED)} bundles"


def test_check_bundles_reports_every_broken_file(tmp_path, capsys):
    write(tmp_path, minimal())
    bad = minimal()
    bad["id"] = "bad"
    bad["ticket_category"] = "pensions"
    bad["trips_saved"] = -1
    write(tmp_path, bad, "bad")
    assert check_bundles_command(str(tmp_path), str(CATALOG)) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "bad.yaml") in err
    assert "trips_saved:" in err and "greater than or equal to 0" in err
    assert "1 broken file(s); 1 bundle(s) OK" in err


def test_check_bundles_with_a_broken_catalog(tmp_path, capsys):
    write(tmp_path, minimal())
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("categories: 3\n", encoding="utf-8")
    assert check_bundles_command(str(tmp_path), str(catalog)) == 2
    assert "categories" in capsys.readouterr().err


# ------------------------------------------------------------------ files that stopped the kiosk
def shipped_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "bundles"
    folder.mkdir()
    for name in SHIPPED:
        shutil.copy(BUNDLES / f"{name}.yaml", folder)
    return folder


def break_birth(folder: Path, line: str) -> Path:
    """birth.yaml with `line` after its `order:` line (line 18 of the shipped file), or in
    its place if it is an `order:` line too."""
    path = folder / "birth.yaml"
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, text in enumerate(lines) if text.startswith("order:"))
    if line.startswith("order:"):
        lines[at] = line
    else:
        lines.insert(at + 1, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("line, key, expected", [
    ("effective_from: 2026-02-30", "effective_from", "not a real date or time: '2026-02-30'"),
    ("effective_from: 2026-02-30 08:00:00", "effective_from", "YYYY-MM-DD"),
    (f"trips_saved: {LONG}", "trips_saved", f"a number with {len(LONG)} digits"),
    (f"order: {HUGE_HEX}", "order", "9999 (found a number of about 24083 digits)"),
], ids=["impossible date", "impossible date and time", "too long a number", "huge number"])
def test_one_broken_file_is_reported_and_the_other_bundles_load(tmp_path, line, key, expected):
    """An unquoted impossible date, or too long a number, in one bundle file once ended
    `kiosk run` with a traceback (and systemd restarted it into the same crash)."""
    path = break_birth(shipped_folder(tmp_path), line)
    result = load_bundles(path.parent, CATALOG_IDS)
    assert [b.id for b in result.bundles] == [b for b in SHIPPED if b != "birth"]
    [error] = result.errors
    assert error.path == path
    message = error.message()
    assert f"{key}:" in message and expected in message and len(message) < 1000


def test_check_bundles_reports_an_impossible_date_with_its_line(tmp_path, capsys):
    path = break_birth(shipped_folder(tmp_path), "effective_from: 2026-02-30")
    assert check_bundles_command(str(path.parent), str(CATALOG)) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "line 19" in err and "quotes" in err
    assert f"1 broken file(s); {len(SHIPPED) - 1} bundle(s) OK" in err


@pytest.mark.parametrize("option", [{"id": [1]}, {"id": {"a": 1}}, {"id": None}, "yes"])
def test_an_odd_option_id_is_a_problem_not_a_crash(tmp_path, option):
    data = minimal()
    data["questions"][0]["options"] = [option]
    _, msg = problems(tmp_path, data)
    assert "questions[0].options[0]" in msg


def test_aliases_that_multiply_the_work_are_refused_at_once(tmp_path):
    """Six options each adding 200 materials, in 200 aliased questions: a few kilobytes
    that made the schema check walk 240,000 values and report as many problems."""
    text = (
        "x_option: &o {id: a, label: {zh: 甲, en: A}, then: {add_materials: ["
        + ", ".join(["1"] * 200) + "]}}\n"
        "x_question: &q {id: q1, kind: choice, text: {zh: 问, en: Q}, "
        "options: [*o, *o, *o, *o, *o, *o]}\n"
        "questions: [" + ", ".join(["*q"] * 200) + "]\n"
    )
    _, msg = problems(tmp_path, text)
    assert "aliases" in msg and "1 problem(s)" in msg


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_every_hostile_yaml_file_is_one_clear_error(tmp_path, case):
    path, msg = problems(tmp_path, HOSTILE_YAML[case])
    assert str(path) in msg and len(msg) < 3000


@pytest.mark.parametrize("case", sorted(HOSTILE_BYTES))
def test_a_file_that_is_not_utf8_text_is_one_clear_error(tmp_path, case):
    path = tmp_path / "sample.yaml"
    path.write_bytes(HOSTILE_BYTES[case])
    result = load_bundles(tmp_path, CATALOG_IDS)
    assert not result.bundles and "UTF-8" in result.errors[0].message()


def test_an_unreadable_folder_is_reported(tmp_path):
    result = load_bundles(tmp_path / "a\x00b", CATALOG_IDS)
    assert not result.bundles and result.errors


SHIPPED_TEXTS = {name: (BUNDLES / f"{name}.yaml").read_text("utf-8") for name in SHIPPED}
BUNDLE_FUZZ = settings(max_examples=150, deadline=None, database=None,
                       suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                              HealthCheck.function_scoped_fixture])


@BUNDLE_FUZZ
@given(data=st.data())
def test_fuzzed_bundle_files_give_a_clear_message_and_spare_the_others(tmp_path, data):
    """A shipped bundle with random edits (or random text, or random bytes) among the other
    shipped ones: a bundle or a ConfigFileError naming that file, never another exception;
    the other bundles always load."""
    name = data.draw(st.sampled_from(SHIPPED))
    content = data.draw(st.one_of(
        mutated(SHIPPED_TEXTS[name], st.one_of(yaml_ish, rare_yaml)),
        mutated(SHIPPED_TEXTS[name], rare_yaml),
        yaml_ish,
        st.binary(max_size=300),
    ))
    folder = tmp_path / "bundles"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for other in SHIPPED:
        if other != name:
            (folder / f"{other}.yaml").write_text(SHIPPED_TEXTS[other], encoding="utf-8")
    path = folder / f"{name}.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    result = load_bundles(folder, CATALOG_IDS)
    assert {b.id for b in result.bundles} >= set(SHIPPED) - {name}
    for error in result.errors:
        assert error.path == path and error.problems and str(path) in error.message()
