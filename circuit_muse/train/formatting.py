"""Chat messages for training and inference. The inference side imports SYSTEM_PROMPT and prompt_messages
from here so the model is asked in exactly the form it was trained on."""
from __future__ import annotations

from ..prompts import system_prompt
from .records import Record

# One system prompt for training and inference: the repair loop asks with exactly this text.
SYSTEM_PROMPT = system_prompt()

Message = dict[str, str]


def user_content(instruction: str, input: str = "") -> str:
    """The user turn: the instruction, then the input (code or spec) after a blank line when there is one."""
    instruction = instruction.strip()
    input = input.strip("\n")
    return f"{instruction}\n\n{input}" if input.strip() else instruction


def prompt_messages(instruction: str, input: str = "", *, system: str | None = SYSTEM_PROMPT) -> list[Message]:
    """Messages up to (not including) the assistant's answer."""
    msgs: list[Message] = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": user_content(instruction, input)})
    return msgs


def record_messages(record: Record, *, system: str | None = SYSTEM_PROMPT) -> list[Message]:
    """The full conversation for one training record: system, user, assistant (the record's output)."""
    return [*prompt_messages(record.instruction, record.input, system=system),
            {"role": "assistant", "content": record.output.strip("\n")}]
