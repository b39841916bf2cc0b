"""Asso'cie's build pipeline: load → validate → enrich → match → render → index.

Each stage is a module usable without Pelican; ``pelican_plugin`` is the thin glue that
Pelican loads through ``PLUGIN_PATHS = ["plugins"]`` and ``PLUGINS = ["associe"]``."""


def register():
    from .pelican_plugin import register as _register

    _register()
