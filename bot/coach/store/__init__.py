"""The canvas store: founders' Customer Relationships blocks, versioned, in SQL (no Rasa here)."""
from bot.coach.store.store import CanvasStore, StoreError, StoreUnavailable

__all__ = ["CanvasStore", "StoreError", "StoreUnavailable"]
