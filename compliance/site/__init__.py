"""The browsable guidance site (issue 7): Markdown generated from the KB graph, built with MkDocs.

Only this package knows about MkDocs (:mod:`compliance.site.build`); the page generator
(:mod:`compliance.site.generate`) writes plain Markdown and a nav, so another builder that reads
``mkdocs.yml`` (Zensical) can replace MkDocs later.
"""

from compliance.site.build import BuildResult, build_site

__all__ = ["BuildResult", "build_site"]
