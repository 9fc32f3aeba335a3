"""Settings: your profile, model providers, importing an openclaw.json, exporting configs, gateways.

One module per section (`profile`, `providers`, `import_export`, `gateways`), what they share in
`state`, and the page that puts them together in `page`."""

from clawnet.ui.pages.settings import page

__all__ = ["page"]
