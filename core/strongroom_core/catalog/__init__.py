"""The provider catalog: presets that fill a Provider spec (``spec.preset: github``).

Each preset is a YAML file in ``presets/`` holding a Provider spec fragment plus ``source``
(the public documentation it follows) and ``notes``; docs/providers.md describes the format.

- :func:`apply_preset` fills a spec from a preset (the resource parser calls it);
- :func:`preset_names` and :func:`load_preset` list and read presets;
- :func:`check_preset` lists what is wrong with a preset (the catalog tests run it on each).
"""

from strongroom_core.catalog.checking import check_preset
from strongroom_core.catalog.errors import UnknownPresetError
from strongroom_core.catalog.loading import PRESET_ONLY_KEYS, load_preset, preset_names
from strongroom_core.catalog.merging import apply_preset, deep_merge

__all__ = [
    "PRESET_ONLY_KEYS",
    "UnknownPresetError",
    "apply_preset",
    "check_preset",
    "deep_merge",
    "load_preset",
    "preset_names",
]
