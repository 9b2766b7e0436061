"""Training records: the JSONL schema, errors with file:line, and chat formatting."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from circuit_muse.errors import InputError
from circuit_muse.train.formatting import SYSTEM_PROMPT, prompt_messages, record_messages, user_content
from circuit_muse.train.records import RECORD_FIELDS, STAGES, TASKS, parse_record, read_records

SAMPLE = Path(__file__).parent / "data" / "train_sample.jsonl"


def good() -> dict:
    return {"id": "x1", "task": "generate", "stage": 1, "instruction": "Write an AND gate.", "input": "",
            "output": "module and2(input a, b, output y); assign y = a & b; endmodule", "family": "gate",
            "params": {}, "checks": ["lint"]}


def test_sample_file_covers_every_stage_and_task() -> None:
    recs = read_records(SAMPLE)
    assert {r.stage for r in recs} == set(STAGES)
    assert {r.task for r in recs} == set(TASKS)
    assert all(sum(r.stage == s for r in recs) >= 2 for s in STAGES)
    assert all("module" in r.output or "assert property" in r.output for r in recs)
    assert recs[0].where.endswith("train_sample.jsonl:1")
    assert set(recs[0].to_json()) == set(RECORD_FIELDS)


def write(tmp_path: Path, *objs: object, raw: str | None = None) -> Path:
    p = tmp_path / "d.jsonl"
    p.write_text(raw if raw is not None else "\n".join(json.dumps(o) for o in objs) + "\n")
    return p


@pytest.mark.parametrize(("change", "pattern"), [
    ({"task": "poem"}, r"task 'poem' is not one of"),
    ({"stage": 5}, r"stage must be an integer in \[1, 2, 3, 4\], got 5"),
    ({"stage": "1"}, r"stage must be an integer"),
    ({"stage": True}, r"stage must be an integer"),
    ({"output": "  "}, r"'output' must not be empty"),
    ({"instruction": 3}, r"'instruction' must be a string"),
    ({"params": [1]}, r"'params' must be an object"),
    ({"checks": "lint"}, r"'checks' must be a list of non-empty strings"),
    ({"extra": 1}, r"unknown key\(s\) \['extra'\]"),
])
def test_bad_records_name_file_and_line(tmp_path: Path, change: dict, pattern: str) -> None:
    second = {**good(), "id": "x2", **change}
    p = write(tmp_path, good(), second)
    with pytest.raises(InputError, match=pattern) as ei:
        read_records(p)
    assert f"{p}:2:" in str(ei.value)


def test_missing_key_lists_the_schema(tmp_path: Path) -> None:
    rec = good()
    del rec["checks"]
    with pytest.raises(InputError, match=r"d.jsonl:1: missing key\(s\) \['checks'\]; a record has exactly"):
        read_records(write(tmp_path, rec))


def test_bad_json_and_duplicates(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"d.jsonl:2: not valid JSON"):
        read_records(write(tmp_path, raw=json.dumps(good()) + "\n{oops\n"))
    with pytest.raises(InputError, match=r"d.jsonl:3: duplicate id 'x1' \(first seen at .*d.jsonl:1\)"):
        read_records(write(tmp_path, raw=json.dumps(good()) + "\n\n" + json.dumps(good()) + "\n"))
    with pytest.raises(InputError, match="not found"):
        read_records(tmp_path / "missing.jsonl")


def test_null_family_params_and_gzip(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(json.dumps({**good(), "family": None, "params": None}) + "\n")
    (r,) = read_records(p)
    assert r.family == "" and r.params == {}


def test_parse_record_rejects_non_objects() -> None:
    with pytest.raises(InputError, match="must be a JSON object"):
        parse_record([1, 2], "here")


def test_formatting() -> None:
    assert user_content("Fix it.", "") == "Fix it."
    assert user_content(" Fix it. ", "\nmodule m; endmodule\n") == "Fix it.\n\nmodule m; endmodule"
    msgs = prompt_messages("Do X.")
    assert msgs[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert prompt_messages("Do X.", system=None) == [{"role": "user", "content": "Do X."}]
    rec = parse_record(good())
    full = record_messages(rec)
    assert [m["role"] for m in full] == ["system", "user", "assistant"]
    assert full[-1]["content"] == rec.output
