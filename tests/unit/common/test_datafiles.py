"""Reading the files staff and technicians edit: whatever a file holds, the reader answers
with its data or with one ConfigFileError naming the file (and the line where it can), never
with another exception, a crash of the interpreter or minutes of work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from kiosk.common.datafiles import (
    MAX_FILE_BYTES,
    MAX_NESTING,
    ConfigFileError,
    load_model_file,
    read_data_file,
)
from tests.helpers.hostile_files import (
    HOSTILE_BYTES,
    HOSTILE_TOML,
    HOSTILE_YAML,
    HUGE_HEX,
    LONG,
    alias_bomb,
    rare_toml,
    rare_yaml,
    toml_ish,
    yaml_ish,
)
from tests.helpers.paths import BUNDLES_DIR, CATALOG_FILE, SHIPPED_CONFIG

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def refused(path: Path) -> ConfigFileError:
    with pytest.raises(ConfigFileError) as info:
        read_data_file(path)
    error = info.value
    assert error.path == path and error.problems
    message = error.message()
    assert str(path) in message and "Traceback" not in message
    assert len(message) < 2000  # one readable message, not a dump of the file
    return error


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: int = Field(0, le=9999)
    name: str = ""


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_a_hostile_yaml_file_is_refused_with_a_message(tmp_path, case):
    path = write(tmp_path, "bundle.yaml", HOSTILE_YAML[case])
    with pytest.raises(ConfigFileError) as info:
        load_model_file(path, _Model)
    message = info.value.message()
    assert info.value.path == path and str(path) in message
    assert len(message) < 2000  # one readable message, not a dump of the file


@pytest.mark.parametrize("case", sorted(HOSTILE_TOML))
def test_a_hostile_toml_file_is_refused_or_read(tmp_path, case):
    path = write(tmp_path, "kiosk.toml", HOSTILE_TOML[case])
    try:
        read_data_file(path)
    except ConfigFileError as e:
        assert e.path == path and str(path) in e.message()


@pytest.mark.parametrize("case", sorted(HOSTILE_BYTES))
@pytest.mark.parametrize("suffix", [".yaml", ".toml"])
def test_bytes_that_are_not_utf8_text_are_refused(tmp_path, case, suffix):
    error = refused(write(tmp_path, "data" + suffix, HOSTILE_BYTES[case]))
    assert "UTF-8" in error.message()


def test_an_impossible_date_names_its_line_and_what_to_write(tmp_path):
    path = write(tmp_path, "bundle.yaml", "id: sample\norder: 1\neffective_from: 2026-02-30\n")
    message = refused(path).message()
    assert "line 3" in message and "2026-02-30" in message
    assert "YYYY-MM-DD" in message and "quote" in message


@pytest.mark.parametrize("suffix", [".yaml", ".toml"])
def test_a_too_long_number_names_its_line(tmp_path, suffix):
    sep = ": " if suffix == ".yaml" else " = "
    path = write(tmp_path, "data" + suffix, f"a{sep}1\nb{sep}{LONG}\n")
    message = refused(path).message()
    assert "line 2" in message and f"{len(LONG)} digits" in message
    assert "set_int_max_str_digits" not in message  # Python's advice, not the technician's


def test_an_alias_bomb_is_refused_before_anything_walks_it(tmp_path):
    message = refused(write(tmp_path, "bundle.yaml", alias_bomb(levels=9, width=9))).message()
    assert "alias" in message


def test_a_value_that_contains_itself_is_refused(tmp_path):
    message = refused(write(tmp_path, "bundle.yaml", "a: &a {b: [*a]}\n")).message()
    assert "alias" in message and "itself" in message


@pytest.mark.parametrize("text", ["a: " + "[" * 200 + "]" * 200 + "\n",
                                  "a:\n" + "".join("  " * i + "- x:\n" for i in range(1, 200))])
def test_deep_nesting_is_refused_with_the_limit(tmp_path, text):
    message = refused(write(tmp_path, "bundle.yaml", text)).message()
    assert f"more than {MAX_NESTING} levels" in message


def test_deep_toml_nesting_is_refused(tmp_path):
    message = refused(write(tmp_path, "kiosk.toml", HOSTILE_TOML["deep arrays"])).message()
    assert "nested too deeply" in message


@pytest.mark.parametrize("text", ["a: " + "[" * 100_000 + "]" * 100_000 + "\n",
                                  "- " * 100_000 + "x\n"], ids=["flow", "compact block"])
def test_nesting_that_crashed_libyaml_is_refused_in_a_child_process(tmp_path, text):
    """libyaml's composer recurses in C: tens of thousands of levels overflowed the C stack
    and killed the interpreter (SIGSEGV), which no `except` can catch. In a child process,
    so that a regression fails this test instead of ending the test run."""
    path = write(tmp_path, "bundle.yaml", text)
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from kiosk.common.datafiles import ConfigFileError, read_data_file\n"
            "try:\n"
            "    read_data_file(Path(sys.argv[1]))\n"
            "except ConfigFileError as e:\n"
            "    print(e.message())\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"more than {MAX_NESTING} levels" in proc.stdout and "line 1" in proc.stdout


def test_a_file_far_too_large_for_a_data_file_is_refused_unread(tmp_path):
    path = tmp_path / "bundle.yaml"
    with path.open("wb") as f:
        f.write(b"a: 1\n")
        f.truncate(MAX_FILE_BYTES + 1)
    assert "too large" in refused(path).message()


def test_a_path_with_a_null_character_is_refused(tmp_path):
    error = refused(tmp_path / "cat\x00alog.yaml")
    assert "cannot read" in error.message()


@pytest.mark.parametrize("name, text", [
    ("data.yaml", 'a: 1\nb: {c: "x\\0y"}\n'),
    ("data.yaml", 'a: 1\nb: {c: ["x\\x00y"]}\n'),
    ("data.toml", 'a = 1\n[b]\nc = ["x\\u0000y"]\n'),
])
def test_a_null_character_in_a_text_is_named_by_its_key(tmp_path, name, text):
    error = refused(write(tmp_path, name, text))
    assert error.problems[0][0].startswith("b.c") and "null character" in error.message()


def test_a_byte_order_mark_is_accepted(tmp_path):
    # Windows Notepad writes one; the file is otherwise fine.
    assert read_data_file(write(tmp_path, "kiosk.toml", "\ufeffa = 1\n")) == {"a": 1}
    assert read_data_file(write(tmp_path, "catalog.yaml", "\ufeffa: 1\n")) == {"a": 1}


def test_a_huge_value_is_named_without_printing_it(tmp_path):
    path = write(tmp_path, "data.yaml", f"order: 1\nname: {HUGE_HEX}\n")
    with pytest.raises(ConfigFileError) as info:
        load_model_file(path, _Model)
    message = info.value.message()
    assert "name" in message and "digits" in message and len(message) < 500


def test_the_shipped_files_are_read_unchanged():
    for path in [SHIPPED_CONFIG, CATALOG_FILE, *sorted(BUNDLES_DIR.glob("*.yaml"))]:
        assert isinstance(read_data_file(path), dict), path


def _only_config_file_errors(path: Path) -> None:
    try:
        read_data_file(path)
    except ConfigFileError as e:
        assert e.path == path and e.problems and str(path) in e.message()


@FUZZ
@given(raw=st.binary(max_size=400), suffix=st.sampled_from([".yaml", ".toml"]))
def test_random_bytes_never_escape_as_another_exception(tmp_path, raw, suffix):
    _only_config_file_errors(write(tmp_path, "fuzz" + suffix, raw))


@FUZZ
@given(text=st.one_of(yaml_ish, rare_yaml, st.tuples(yaml_ish, rare_yaml, yaml_ish).map(
    "".join)))
def test_yaml_like_text_never_escapes_as_another_exception(tmp_path, text):
    _only_config_file_errors(write(tmp_path, "fuzz.yaml", text.encode("utf-8", "replace")))


@FUZZ
@given(text=st.one_of(toml_ish, rare_toml, st.tuples(toml_ish, rare_toml, toml_ish).map(
    "".join)))
def test_toml_like_text_never_escapes_as_another_exception(tmp_path, text):
    _only_config_file_errors(write(tmp_path, "fuzz.toml", text.encode("utf-8", "replace")))
