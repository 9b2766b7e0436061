from __future__ import annotations

import pytest

from circuit_muse.errors import InputError
from circuit_muse.identifiers import is_plain_identifier, require_plain_identifier


@pytest.mark.parametrize("name", ["counter", "_x", "fifo_sync2", "A1"])
def test_plain_names_pass(name: str) -> None:
    assert is_plain_identifier(name)
    assert require_plain_identifier(name, "top module") == name


@pytest.mark.parametrize("name", ["\\initial/**/force/**/failed=0;sub ", "a b", "1abc", "", "x$y", "dut.q", "a;",
                                  "é", None, "x" * 129])
def test_anything_else_is_refused_with_the_reason(name: object) -> None:
    assert not is_plain_identifier(name)
    with pytest.raises(InputError, match="top module .* is not a plain identifier"):
        require_plain_identifier(name, "top module")
