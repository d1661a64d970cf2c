"""Offline stand-ins for agency sites: faithful page templates, sample articles and synthetic pages.

- `render_article(spec, layout)`: one article spec as an aa.com.tr page ("legacy" or "nextjs").
- `synthetic_pages(n, seed)`: (url, html, spec) for n invented articles, for benchmarks and fuzzing.
- `python -m wirestance.samples.build`: regenerate the replay site under data/samples/anadolu_en/.
"""

from wirestance.samples.render import LAYOUTS, Layout, render_article
from wirestance.samples.synthetic import synthetic_pages

__all__ = ["LAYOUTS", "Layout", "render_article", "synthetic_pages"]
