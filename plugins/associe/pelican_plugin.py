"""Pelican glue: connects the signals, nothing else (the logic lives in ``rendering``)."""
from __future__ import annotations

from pelican import signals


def _get_generators(pelican_object):
    from .rendering import get_generators

    return get_generators(pelican_object)


def _generator_init(generator):
    from .rendering import add_jinja_helpers

    add_jinja_helpers(generator)


def _initialized(pelican_object):
    """Keep the output of the last build when it can be updated incrementally (a manifest of
    its pages is in ``ASSOCIE_CACHE_PATH``): the generator then rewrites only the changed pages
    and removes the stale ones. Without a manifest, Pelican empties the output as usual."""
    from .rendering import keep_output

    if keep_output(pelican_object.settings):
        pelican_object.delete_outputdir = False


def _content_written(path, context=None):
    from .rendering import PELICAN_WRITTEN

    PELICAN_WRITTEN.append(str(path))


def register() -> None:
    signals.get_generators.connect(_get_generators)
    signals.generator_init.connect(_generator_init)
    signals.initialized.connect(_initialized)
    signals.content_written.connect(_content_written)
