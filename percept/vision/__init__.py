"""Image analysis: Computer Vision v1.0–v3.2 and Image Analysis 4.0 features on local models.

``analyze.py`` is the driver (an ordered list of stages over one :class:`model.ImageAnalysis`); each stage
module holds one feature and its engine; ``service.py``/``worker.py`` run the driver in worker processes.
Importing this package registers the vision engines with :mod:`percept.engines`.
"""

from . import adult, captions, faces, objects, tags


def register_engines() -> None:
    for module in (adult, captions, faces, objects, tags):
        module.register_engines()


register_engines()
