"""Which transformers Auto class and which pipeline task serve each SLIP class.

One mapping, used two ways:

- pip users: `register_auto_classes()` runs on the first access of a SLIP name through `slip_sensor`,
  `slip_sensor.modeling_slip` or `slip_sensor.processors` (`from slip_sensor import SlipModel`,
  `slip_sensor.pretrained()`), or when called; from then on `AutoModel.from_pretrained(folder)`,
  `AutoProcessor.from_pretrained(folder)` and `pipeline("sensor-captioning", model=model, processor=processor)`
  work without remote code. `import slip_sensor` alone registers nothing: it loads neither torch nor transformers.
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
import importlib
from collections.abc import Iterator

# Auto class name → SLIP class, as "module.ClassName" with the module below `slip_sensor`. Classes are named rather
# than imported, so that importing this module (and `slip_sensor`) loads neither torch nor the model code; the
# last two parts are how `auto_map` names the class in a flat Hub folder. Config and model entries go to
# `config.json`; the others to their own JSON files.
AUTO_CLASSES: dict[str, str] = {
    "AutoConfig": "modeling_slip.configuration_slip.SlipConfig",
    "AutoModel": "modeling_slip.modeling_slip.SlipModel",
    "AutoModelForCausalLM": "modeling_slip.modeling_slip.SlipForConditionalGeneration",
    "AutoModelForSensorClassification": "modeling_slip.classification_slip.SlipForSensorClassification",
    "AutoFeatureExtractor": "processors.feature_extraction_slip.SlipFeatureExtractor",
    "AutoProcessor": "processors.processing_slip.SlipProcessor",
}
CONFIG_AUTO_CLASSES = ("AutoConfig", "AutoModel", "AutoModelForCausalLM", "AutoModelForSensorClassification")
# Auto classes transformers lacks, defined in this package (module below `slip_sensor`).
PACKAGE_AUTO_CLASSES = {"AutoModelForSensorClassification": "auto_models"}

# Pipeline task → (pipeline class, Auto class that loads its model).
PIPELINES = "modeling_slip.pipeline_slip"
PIPELINE_TASKS: dict[str, tuple[str, str]] = {
    "sensor-captioning": (f"{PIPELINES}.SensorCaptioningPipeline", "AutoModelForCausalLM"),
    "zero-shot-sensor-classification": (f"{PIPELINES}.ZeroShotSensorClassificationPipeline", "AutoModel"),
    "sensor-feature-extraction": (f"{PIPELINES}.SensorFeatureExtractionPipeline", "AutoModel"),
    "sensor-classification": (f"{PIPELINES}.SensorClassificationPipeline", "AutoModelForSensorClassification"),
}
# Tasks whose model is fine-tuned (a classifier head): no shipped default model, and not in Hub folders'
# `custom_pipelines`, whose Auto classes transformers must find in its own namespace.
FINE_TUNED_TASKS = ("sensor-classification",)
PIPELINE_TYPE = "multimodal"

_registered = False


def load_class(path: str) -> type:
    """The class `path` ("module.ClassName" below `slip_sensor`) names."""
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"slip_sensor.{module}"), name)


def auto_classes() -> dict[str, type]:
    """`AUTO_CLASSES` with the classes imported."""
    return {auto_name: load_class(path) for auto_name, path in AUTO_CLASSES.items()}


def class_reference(path: str) -> str:
    """`"module_file.ClassName"`, how `auto_map` and `custom_pipelines` name a class of a flat Hub folder."""
    return ".".join(path.rsplit(".", 2)[-2:])


def auto_class(name: str) -> type:
    """The Auto class `name`: transformers' own, or one `PACKAGE_AUTO_CLASSES` defines."""
    if name in PACKAGE_AUTO_CLASSES:
        return getattr(importlib.import_module(f"slip_sensor.{PACKAGE_AUTO_CLASSES[name]}"), name)
    return getattr(importlib.import_module("transformers"), name)


def config_auto_map() -> dict[str, str]:
    """The `auto_map` of `config.json`: the config and the model classes."""
    return {name: class_reference(AUTO_CLASSES[name]) for name in CONFIG_AUTO_CLASSES}


def custom_pipelines() -> dict[str, dict]:
    """The `custom_pipelines` of `config.json`, in the format `Pipeline.save_pretrained` writes."""
    return {
        task: {"impl": class_reference(pipeline_class), "pt": [auto_name], "type": PIPELINE_TYPE}
        for task, (pipeline_class, auto_name) in PIPELINE_TASKS.items()
        if task not in FINE_TUNED_TASKS
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
    shipped slip-tiny as their default model). Runs once per process; later calls return at once."""
    global _registered
    if _registered:
        return
    # set first: the imports below may access a `slip_sensor` name, whose first access calls this function again
    _registered = True
    try:
        _register()
    except BaseException:
        _registered = False
        raise


def _register() -> None:
    import transformers
    from transformers.pipelines import PIPELINE_REGISTRY

    classes = auto_classes()
    config_class = classes.pop("AutoConfig")
    transformers.AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
    for auto_name, cls in classes.items():
        auto_class(auto_name).register(config_class, cls, exist_ok=True)
    default = _default_model()
    for task, (pipeline_class, auto_name) in PIPELINE_TASKS.items():
        PIPELINE_REGISTRY.register_pipeline(
            task,
            pipeline_class=load_class(pipeline_class),
            pt_model=auto_class(auto_name),
            default=None if task in FINE_TUNED_TASKS else default,
            type=PIPELINE_TYPE,
        )


@contextlib.contextmanager
def hub_auto_classes() -> Iterator[None]:
    """Marks every class for its Auto class (`register_for_auto_class`) while a Hub folder is saved, so that
    `save_pretrained` writes `auto_map` entries; unmarks them afterwards, so that ordinary checkpoints stay plain."""
    classes = auto_classes()
    previous = {cls: cls._auto_class for cls in classes.values()}
    try:
        for auto_name, cls in classes.items():
            if auto_name not in PACKAGE_AUTO_CLASSES:  # `register_for_auto_class` knows transformers' only
                cls.register_for_auto_class(auto_name)
        yield
    finally:
        for cls, auto_class in previous.items():
            cls._auto_class = auto_class


__all__ = [
    "AUTO_CLASSES",
    "PIPELINE_TASKS",
    "auto_class",
    "auto_classes",
    "class_reference",
    "config_auto_map",
    "custom_pipelines",
    "hub_auto_classes",
    "load_class",
    "register_auto_classes",
]
