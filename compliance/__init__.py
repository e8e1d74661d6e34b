"""sckb: the Serverless Compliance Knowledge Base.

Stages, each its own subpackage: ``kb`` (model, load, validate, graph, query) and the
stages built on it. ``kb`` imports none of the later stages.
"""

__version__ = "0.1.0"
