"""The canvas store: founders' Customer Relationships blocks, versioned, in SQL (no Rasa here)."""

from bot.coach.store.store import CanvasStore, StoreError, StoreUnavailable, founder_channel

__all__ = ["CanvasStore", "StoreError", "StoreUnavailable", "founder_channel"]
