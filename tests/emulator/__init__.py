"""A local emulator of Discord's gateway and REST API for end-to-end tests of a discord.py bot.

It imports nothing from the bot: its limits are typed in from Discord's documentation
(``limits.py``), its schemas come from Discord's own OpenAPI description (``spec.py``), so a check
cannot pass merely because bot and emulator share a mistake.

Public API: :class:`DiscordEmulator` (async, in the test's loop) and :class:`EmulatorThread` (the
same hosted in a daemon thread for synchronous callers); records in ``models.py``.
"""

from .limits import DOCS
from .models import (
    AttachmentRecord,
    CallbackRecord,
    Channel,
    ConnectionRecord,
    Guild,
    InteractionRecord,
    MessageRecord,
    RequestRecord,
    Role,
    SyncRecord,
    User,
    ValidationFailure,
)
from .server import (
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    CONTEXT_PRIVATE_CHANNEL,
    DiscordEmulator,
    EmulatorUsageError,
    SyncedCommands,
)
from .spec import RELAXATIONS, Relaxation
from .thread import EmulatorThread
from .validation import Issue, UploadedFile

__all__ = [
    "CONTEXT_BOT_DM",
    "CONTEXT_GUILD",
    "CONTEXT_PRIVATE_CHANNEL",
    "DOCS",
    "RELAXATIONS",
    "AttachmentRecord",
    "CallbackRecord",
    "Channel",
    "ConnectionRecord",
    "DiscordEmulator",
    "EmulatorThread",
    "EmulatorUsageError",
    "Guild",
    "InteractionRecord",
    "Issue",
    "MessageRecord",
    "Relaxation",
    "RequestRecord",
    "Role",
    "SyncRecord",
    "SyncedCommands",
    "UploadedFile",
    "User",
    "ValidationFailure",
]
