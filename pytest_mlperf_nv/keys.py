"""The plugin's stash keys: where its state lives on pytest's config and items."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .session import MlperfSession
    from .suite.model import Case

#: the session's :class:`MlperfSession`, on ``config.stash``
SESSION_KEY: pytest.StashKey[MlperfSession] = pytest.StashKey()
#: an item's :class:`Case`, on ``item.stash``
CASE_KEY: pytest.StashKey[Case] = pytest.StashKey()
