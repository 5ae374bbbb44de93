"""`AutoModelForSensorClassification`: the Auto class of sensor classifiers, which transformers does not have.

Built with transformers' Auto-class factory like `AutoModelForImageClassification`, over an empty mapping that
`register_auto_classes()` fills (SlipConfig → `SlipForSensorClassification`). Hub folders name the class in
`auto_map` under this Auto class's name, so `from_pretrained(folder, trust_remote_code=True)` loads their code.
"""

from collections import OrderedDict

from transformers.models.auto.auto_factory import _BaseAutoModelClass, _LazyAutoMapping, auto_class_update
from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

from .auto_registration import register_auto_classes


class AutoModelForSensorClassification(_BaseAutoModelClass):
    _model_mapping = _LazyAutoMapping(CONFIG_MAPPING_NAMES, OrderedDict())


AutoModelForSensorClassification = auto_class_update(
    AutoModelForSensorClassification, head_doc="sensor classification"
)

register_auto_classes()

__all__ = ["AutoModelForSensorClassification"]
