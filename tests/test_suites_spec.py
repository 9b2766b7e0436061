"""Specs, variants, parameters and the suites CLI (no simulator needed)."""
from __future__ import annotations

import json

import pytest

from circuit_muse.cli import main
from circuit_muse.errors import InputError
from circuit_muse.suites import Suite, family_names, get_suite, list_suites
from circuit_muse.testbench.base import Testbench


def test_every_family_and_preset_builds_a_spec() -> None:
    assert set(family_names()) == {"register", "counter", "fifo", "async_fifo", "arbiter", "axi_lite", "assertion"}
    for fam in list_suites():
        for v in fam["variants"]:
            s = get_suite(fam["family"], v["name"])
            assert isinstance(s, Testbench) and isinstance(s, Suite)
            text = s.spec.prompt_text()
            assert f"`{s.contract.module}`" in text
            for p in s.contract.ports:
                assert f"`{p.name}`" in text
            assert s.reference_rtl().count("module ") >= 1
            assert len(s.fingerprint()) == 16


def test_variant_tokens_canonical_and_errors() -> None:
    s = get_suite("counter", "async-load-updown", {"WIDTH": 4})
    assert s.variant == "updown-noen-load-wrap-async-high"
    assert get_suite("counter", s.variant).variant == s.variant
    with pytest.raises(InputError, match="unknown variant token 'sideways'"):
        get_suite("counter", "sideways")
    with pytest.raises(InputError, match="unknown parameter"):
        get_suite("fifo", None, {"SIZE": 4})
    with pytest.raises(InputError, match="power of 2"):
        get_suite("fifo", None, {"DEPTH": 12})
    with pytest.raises(InputError, match="unknown suite family"):
        get_suite("uart")


def test_parameterized_contract_requires_hdl_parameters() -> None:
    fifo = get_suite("fifo", None, {"DEPTH": 16})
    assert fifo.contract.params == {"WIDTH": 8, "DEPTH": 16}
    assert "parameter DEPTH = 16" in fifo.contract.header()
    counter = get_suite("counter", None, {"WIDTH": 4})
    assert counter.contract.params == {}
    assert get_suite("counter", None, {"WIDTH": 4}, parameterized=True).contract.params == {"WIDTH": 4}


def test_timing_conventions_are_in_the_prompt() -> None:
    arb = get_suite("arbiter", "rr-reg")
    assert "one cycle later" in arb.spec.prompt_text()
    fifo = get_suite("fifo", "fwft")
    assert "first-word-fall-through" in fifo.spec.prompt_text().lower()


def test_cli_suites_lists_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suites", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["family"] for d in data} == set(family_names())
    assert all(v["contract"]["ports"] for d in data for v in d["variants"])


def test_cli_suites_text_spec_and_match(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suites"]) == 0
    assert "axi_lite" in capsys.readouterr().out
    assert main(["suites", "--family", "fifo", "--variant", "fwft", "--param", "DEPTH=8"]) == 0
    assert "8 words" in capsys.readouterr().out
    assert main(["suites", "--match", "Design a 4-client round-robin arbiter with rotating priority pointer."]) == 0
    assert "arbiter" in capsys.readouterr().out
    assert main(["suites", "--match", "write a haiku"]) == 1
    assert main(["suites", "--family", "fifo", "--param", "DEPTH"]) == 2
