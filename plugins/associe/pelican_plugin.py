"""Pelican glue: connects the signals, nothing else (the logic lives in ``rendering``)."""
from __future__ import annotations

from pelican import signals


def _get_generators(pelican_object):
    from .rendering import get_generators

    return get_generators(pelican_object)


def _generator_init(generator):
    from .rendering import add_jinja_helpers

    add_jinja_helpers(generator)


def register() -> None:
    signals.get_generators.connect(_get_generators)
    signals.generator_init.connect(_generator_init)
