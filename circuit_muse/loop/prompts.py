"""Chat messages for each round of the loop, rendered from circuit_muse/prompts/templates/."""
from __future__ import annotations

from ..contract import Contract
from ..models.base import Message
from ..prompts import render, system_prompt


def first_messages(request: str, *, spec_text: str | None = None, contract: Contract | None = None,
                   explain: bool = False) -> list[Message]:
    if explain:
        user = render("explain.j2", request=request.strip())
    else:
        user = render("generate.j2", request=request.strip(), spec=spec_text,
                      contract=contract.header() if contract else None)
    return [Message("system", system_prompt()), Message("user", user)]


def repair_messages(first: list[Message], candidate_text: str, feedback: str) -> list[Message]:
    """The first turn, the failed candidate, and the feedback: history is not accumulated, so the
    context stays the same size every round."""
    return [*first, Message("assistant", candidate_text.strip()), Message("user", feedback.strip())]
