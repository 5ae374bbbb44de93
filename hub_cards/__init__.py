"""Model cards of SLIP Hub folders (`model_card`); the names below are imported on first access."""

from ..lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {".model_card": ("build_model_card", "validate_model_card")})
