"""Which transformers Auto class and which pipeline task serve each SLIP class.

One mapping, used two ways:

- pip users: `import slip_sensor` calls `register_auto_classes()`, so `AutoModel.from_pretrained(folder)`,
  `AutoProcessor.from_pretrained(folder)` and `pipeline("sensor-captioning", model=model, processor=processor)`
  work without remote code.
- Hub folders: `slip export` marks the classes with `hub_auto_classes()` while saving (transformers then writes
  `auto_map` into the JSON files) and writes `config_auto_map()` and `custom_pipelines()` into `config.json`, so
  everything resolves with `trust_remote_code=True`.

The captioning model is served by `AutoModelForCausalLM`: it exists in transformers 4.57 and 5.x
(`AutoModelForVision2Seq` is gone in 5.x, `AutoModelForImageTextToText` is about images), and it is the Auto class
that generative multimodal remote-code models (Florence-2, Phi-3-vision) declare. The sensor tower alone gets no Auto
class: no generic Auto class means "one tower of a two-tower model", and its weights sit under `slip.sensor_model.` in
the checkpoint; `AutoModel` (`SlipModel.get_sensor_features`) and the feature-extraction pipeline cover it.
"""

import contextlib
from collections.abc import Iterator

import transformers
from transformers import AutoConfig
from transformers.pipelines import PIPELINE_REGISTRY

from .modeling_slip.configuration_slip import SlipConfig
from .modeling_slip.modeling_slip import SlipForConditionalGeneration, SlipModel
from .modeling_slip.pipeline_slip import (
    SensorCaptioningPipeline,
    SensorFeatureExtractionPipeline,
    ZeroShotSensorClassificationPipeline,
)
from .processors import SlipFeatureExtractor, SlipProcessor

# Auto class name → SLIP class. Config and model entries go to `config.json`; the others to their own JSON files.
AUTO_CLASSES: dict[str, type] = {
    "AutoConfig": SlipConfig,
    "AutoModel": SlipModel,
    "AutoModelForCausalLM": SlipForConditionalGeneration,
    "AutoFeatureExtractor": SlipFeatureExtractor,
    "AutoProcessor": SlipProcessor,
}
CONFIG_AUTO_CLASSES = ("AutoConfig", "AutoModel", "AutoModelForCausalLM")

# Pipeline task → (pipeline class, Auto class that loads its model).
PIPELINE_TASKS: dict[str, tuple[type, str]] = {
    "sensor-captioning": (SensorCaptioningPipeline, "AutoModelForCausalLM"),
    "zero-shot-sensor-classification": (ZeroShotSensorClassificationPipeline, "AutoModel"),
    "sensor-feature-extraction": (SensorFeatureExtractionPipeline, "AutoModel"),
}
PIPELINE_TYPE = "multimodal"


def class_reference(cls: type) -> str:
    """`"module_file.ClassName"`, how `auto_map` and `custom_pipelines` name a class of a flat Hub folder."""
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"


def config_auto_map() -> dict[str, str]:
    """The `auto_map` of `config.json`: the config and both model classes."""
    return {name: class_reference(AUTO_CLASSES[name]) for name in CONFIG_AUTO_CLASSES}


def custom_pipelines() -> dict[str, dict]:
    """The `custom_pipelines` of `config.json`, in the format `Pipeline.save_pretrained` writes."""
    return {
        task: {"impl": class_reference(pipeline_class), "pt": [auto_name], "type": PIPELINE_TYPE}
        for task, (pipeline_class, auto_name) in PIPELINE_TASKS.items()
    }


def _default_model() -> dict | tuple | None:
    """The shipped slip-tiny as the pipeline tasks' default model, in the form the installed transformers reads."""
    import inspect

    from transformers.pipelines import base

    from .shipped_models import DEFAULT_MODEL, available, pretrained

    if DEFAULT_MODEL not in available():
        return None
    model = (str(pretrained(DEFAULT_MODEL)), None)
    if "framework" in inspect.signature(base.get_default_model_and_revision).parameters:  # transformers 4
        return {"pt": model}
    return model


def register_auto_classes() -> None:
    """Registers the SLIP classes with the Auto classes and the pipeline tasks with `PIPELINE_REGISTRY` (with the
    shipped slip-tiny as their default model)."""
    AutoConfig.register(SlipConfig.model_type, SlipConfig, exist_ok=True)
    for auto_name, cls in AUTO_CLASSES.items():
        if auto_name != "AutoConfig":
            getattr(transformers, auto_name).register(SlipConfig, cls, exist_ok=True)
    default = _default_model()
    for task, (pipeline_class, auto_name) in PIPELINE_TASKS.items():
        PIPELINE_REGISTRY.register_pipeline(
            task,
            pipeline_class=pipeline_class,
            pt_model=getattr(transformers, auto_name),
            default=default,
            type=PIPELINE_TYPE,
        )


@contextlib.contextmanager
def hub_auto_classes() -> Iterator[None]:
    """Marks every class for its Auto class (`register_for_auto_class`) while a Hub folder is saved, so that
    `save_pretrained` writes `auto_map` entries; unmarks them afterwards, so that ordinary checkpoints stay plain."""
    previous = {cls: cls._auto_class for cls in AUTO_CLASSES.values()}
    try:
        for auto_name, cls in AUTO_CLASSES.items():
            cls.register_for_auto_class(auto_name)
        yield
    finally:
        for cls, auto_class in previous.items():
            cls._auto_class = auto_class


__all__ = [
    "AUTO_CLASSES",
    "PIPELINE_TASKS",
    "class_reference",
    "config_auto_map",
    "custom_pipelines",
    "hub_auto_classes",
    "register_auto_classes",
]
