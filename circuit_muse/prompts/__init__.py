"""Prompt text shared by inference (the repair loop) and training, rendered from jinja2 templates here.

Only jinja2 is needed, so training machines without the HDL toolchain can import it.
"""
from __future__ import annotations

from functools import lru_cache

import jinja2


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("circuit_muse.prompts", "templates"),
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=False)


def render(template: str, **values: object) -> str:
    return environment().get_template(template).render(**values).strip()


@lru_cache(maxsize=1)
def system_prompt() -> str:
    """The system message the model is trained with and asked with."""
    return render("system.j2")
