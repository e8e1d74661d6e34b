"""The knowledge base: model, load, validate, graph, query, export.

>>> from compliance import kb
>>> base = kb.load()            # shipped data, plus overlays if given
>>> kb.query.control(base, "AC-6")["mitigations"]  # doctest: +SKIP
"""

from compliance.kb import query
from compliance.kb.load import KB, Problem, load, overlay_dirs_from_env
from compliance.kb.validate import validate

__all__ = ["KB", "Problem", "load", "overlay_dirs_from_env", "query", "validate"]
