"""A Griffe extension for the documentation site: the docstrings of mtl-gym use Sphinx roles
(``:class:`~mtl_gym.env.EnvConfig```, ``:func:`run_schedule```), which Markdown would show as
raw text. Each role becomes a code span of its target, shortened as Sphinx shortens it after a
tilde. The Python files are not changed; only what the site shows of them."""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const):`(~?)([^`<]*?)(?:\s*<([^>]+)>)?`"
)
"""``:role:`target```, ``:role:`~target``` or ``:role:`title <target>```."""


def plain(match: re.Match) -> str:
    tilde, text, target = match[1], match[2].strip(), match[3]
    if target:
        return f"`{text}`"
    name = text.lstrip(".")
    return f"`{name.rsplit('.', 1)[-1] if tilde else name}`"


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx cross-reference roles in every docstring as code spans."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: object) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(plain, obj.docstring.value)
